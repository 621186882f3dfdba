package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/headroom/headroom/system"
)

// tableActiveTimeout bounds the wait for a new table: seconds on AWS, instant on dynalite.
const tableActiveTimeout = 5 * time.Minute

// createTableInput is the table and its outbox index, on-demand.
func createTableInput(table string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrID), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrOutbox), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrUpdated), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(attrID), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(outboxIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrOutbox), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrUpdated), KeyType: types.KeyTypeRange},
			},
			// Keys only: Unpublished re-reads the items consistently anyway, and a smaller
			// index costs less per write.
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
	}
}

// ensureTable creates the table when it is missing (unless create is off), waits until it
// and its index are ACTIVE, and checks that an existing table has the expected keys. It
// is idempotent and safe to race: every process of a deployment may call it at start.
func ensureTable(ctx context.Context, c *dynamodb.Client, table string, create bool) error {
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		if !create {
			return fmt.Errorf("table %s does not exist (and the DSN says create=false): %w", table, system.ErrNotFound)
		}
		_, err = c.CreateTable(ctx, createTableInput(table))
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // in use: another process is creating it
			return fmt.Errorf("create table %s: %w", table, err)
		}
	case err != nil:
		return fmt.Errorf("describe table %s: %w", table, err)
	default:
		if err := checkSchema(out.Table); err != nil {
			return err
		}
		if active(out.Table) {
			return nil
		}
	}
	return waitActive(ctx, c, table)
}

func active(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

func waitActive(ctx context.Context, c *dynamodb.Client, table string) error {
	ctx, cancel := context.WithTimeout(ctx, tableActiveTimeout)
	defer cancel()
	pause := 20 * time.Millisecond
	for {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var missing *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &missing) { // missing: not visible yet
			return fmt.Errorf("wait for table %s: %w", table, err)
		}
		if err == nil {
			if err := checkSchema(out.Table); err != nil {
				return err
			}
			if active(out.Table) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table %s not ACTIVE: %w", table, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// checkSchema refuses a table this store did not create: another key, or no outbox index.
func checkSchema(t *types.TableDescription) error {
	name := aws.ToString(t.TableName)
	if len(t.KeySchema) != 1 || aws.ToString(t.KeySchema[0].AttributeName) != attrID || t.KeySchema[0].KeyType != types.KeyTypeHash {
		return fmt.Errorf("table %s: key schema %s, want the hash key %q alone: %w", name, keySchema(t.KeySchema), attrID, system.ErrInvalid)
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if aws.ToString(g.IndexName) != outboxIndex {
			continue
		}
		ks := g.KeySchema
		if len(ks) != 2 || aws.ToString(ks[0].AttributeName) != attrOutbox || aws.ToString(ks[1].AttributeName) != attrUpdated {
			return fmt.Errorf("table %s: index %s has key schema %s, want %s HASH, %s RANGE: %w",
				name, outboxIndex, keySchema(ks), attrOutbox, attrUpdated, system.ErrInvalid)
		}
		return nil
	}
	return fmt.Errorf("table %s has no global secondary index %q (the outbox); it was not created by this store: %w",
		name, outboxIndex, system.ErrInvalid)
}

func keySchema(ks []types.KeySchemaElement) string {
	s := "["
	for i, k := range ks {
		if i > 0 {
			s += " "
		}
		s += aws.ToString(k.AttributeName) + " " + string(k.KeyType)
	}
	return s + "]"
}
