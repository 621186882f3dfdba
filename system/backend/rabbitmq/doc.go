// Package rabbitmq is a system.Bus on RabbitMQ (github.com/rabbitmq/amqp091-go).
package rabbitmq
