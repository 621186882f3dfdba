package snssqs

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"strconv"
)

// SQS and SNS name limits, ".fifo" included.
const (
	maxQueueName = 80
	maxTopicName = 256
	fifoSuffix   = ".fifo"
)

// topicName is the SNS topic of a topology.
func topicName(prefix, topic string, fifo bool) string {
	return fit(prefix+topic, maxTopicName, fifo)
}

// queueName is the SQS queue of one of a topology's queues: qualified by the topic, since
// SQS queue names are global to the account and region (see system.Declarer).
func queueName(prefix, topic, queue string, fifo bool) string {
	return fit(prefix+topic+"-"+queue, maxQueueName, fifo)
}

// fit adds the FIFO suffix and, when the name is too long, keeps its start and replaces the
// rest by a hash of the whole, so distinct long names stay distinct and stable.
func fit(name string, limit int, fifo bool) string {
	if fifo {
		limit -= len(fifoSuffix)
	}
	if len(name) > limit {
		h := fnv.New32a()
		h.Write([]byte(name))
		sum := strconv.FormatUint(uint64(h.Sum32()), 16)
		name = name[:limit-len(sum)-1] + "-" + sum
	}
	if fifo {
		name += fifoSuffix
	}
	return name
}

// maxFIFOID is SQS's limit on MessageGroupId and MessageDeduplicationId.
const maxFIFOID = 128

// dedupID fits a deduplication id into SQS's 128 characters: a longer one (the pipeline's
// id:version can be 148) is replaced by its SHA-256, which keeps equal ids equal.
func dedupID(id string) string {
	if len(id) <= maxFIFOID {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
