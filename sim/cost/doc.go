// Package cost prices a run's usage with a dated price table.
//
// The simulator's components report what they consumed as result.Usage items — Lambda
// invocations and billed GB-seconds, API Gateway requests, SQS requests (sends, receives,
// deletes, empty receives), SNS publishes, DynamoDB capacity units, instance-hours — each
// under the key of the price that bills it. A Table maps those keys to prices: flat or
// tiered by monthly volume, each with its unit, its source and the date the table was
// collected (prices.yaml, embedded; a user's own file of the same format replaces it).
// Table.Price turns a result's usage into a result.Cost: one line per component and item,
// totals per service, for the measured period and extrapolated to a 730-hour month, and
// the cost per million completed requests.
//
// Tiers are applied to the monthly volume of each price in each region (AWS tiers per
// account and region), and the measured period is charged at the resulting average unit
// price, so the period's cost is exactly the monthly cost scaled by the period's length.
package cost
