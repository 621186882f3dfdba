// Package nats is a system.Bus on NATS JetStream (github.com/nats-io/nats.go).
package nats
