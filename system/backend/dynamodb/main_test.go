package dynamodb

import (
	"os"
	"testing"

	"github.com/headroom/headroom/system/backend/awstest"
)

// TestMain runs the tests against dynalite, installed and started by awstest on a free
// loopback port; the store finds it through AWS_ENDPOINT_URL_DYNAMODB, as it would find AWS.
func TestMain(m *testing.M) { os.Exit(awstest.Main(m, awstest.DynamoDB)) }
