package snssqs

import (
	"os"
	"testing"

	"github.com/headroom/headroom/system/backend/awstest"
)

// TestMain runs the tests against fauxqs (SNS and SQS) and, for the pipeline suite's
// store, dynalite, installed and started by awstest on free loopback ports; the bus finds
// them through AWS_ENDPOINT_URL_SNS and _SQS, as it would find AWS.
func TestMain(m *testing.M) { os.Exit(awstest.Main(m, awstest.SNSSQS|awstest.DynamoDB)) }
