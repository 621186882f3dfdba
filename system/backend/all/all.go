// Package all registers every store and bus backend, so a binary that imports it for its
// side effects can select any of them by name (headroom serve --store X --bus Y). Each new
// backend package adds its import here.
package all

import (
	_ "github.com/headroom/headroom/system/backend/dynamodb"   // dynamodb store
	_ "github.com/headroom/headroom/system/backend/memory"     // memory store and bus
	_ "github.com/headroom/headroom/system/backend/mysql"      // mysql store
	_ "github.com/headroom/headroom/system/backend/nats"       // nats bus
	_ "github.com/headroom/headroom/system/backend/postgres"   // postgres store
	_ "github.com/headroom/headroom/system/backend/rabbitmq"   // rabbitmq bus
	_ "github.com/headroom/headroom/system/backend/rediscache" // redis+mysql store
	_ "github.com/headroom/headroom/system/backend/snssqs"     // sns+sqs bus
)
