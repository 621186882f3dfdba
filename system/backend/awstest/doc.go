// Package awstest runs the local AWS emulators the dynamodb and sns+sqs backend tests talk
// to: dynalite (DynamoDB) and fauxqs (SNS and SQS on one port), both from the npm project
// in testenv/aws, whose lock file pins them. Main installs that project with `npm ci` when
// its node_modules is missing, starts each emulator on a free loopback port, waits until
// it answers, points the SDK's standard environment (AWS_ENDPOINT_URL_DYNAMODB, _SNS, _SQS,
// AWS_REGION, test credentials) at it, runs the tests and stops the emulators.
//
// The emulators are real servers speaking the AWS wire protocols, so the backends are
// tested through the unchanged aws-sdk-go-v2 clients, exactly as against AWS. When node or
// npm is missing, or the install or a start-up fails, Main fails the test binary with a
// message saying what to install; it never skips.
//
//	func TestMain(m *testing.M) { os.Exit(awstest.Main(m, awstest.DynamoDB)) }
package awstest
