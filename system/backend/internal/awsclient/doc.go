// Package awsclient holds what the AWS backends (dynamodb, snssqs) share about their SDK
// clients: the configuration read from the SDK's standard environment, an HTTP transport
// sized for a pipeline's concurrency, and connections a backend's Close can end.
package awsclient
