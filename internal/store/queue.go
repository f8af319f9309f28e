package store

// QueueTx is the durable notification queue. The delivery issue fills this in.
type QueueTx interface{}
