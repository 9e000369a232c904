package main

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkRPCRoundTrip: one daemon.info request and reply over the unix
// socket on a kept-open connection (the protocol's own cost, without
// process start-up; bench/spine.sh measures the whole `heph version`).
func BenchmarkRPCRoundTrip(b *testing.B) {
	ip := serveInProcess(b, nil)
	c, err := dialDaemon(ip.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var info daemonInfo
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Call(ctx, "daemon.info", nil, &info); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConnectAndCall: a fresh connection per request, as each heph
// invocation makes.
func BenchmarkConnectAndCall(b *testing.B) {
	ip := serveInProcess(b, nil)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := dialDaemon(ip.Socket)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Call(ctx, "daemon.info", nil, nil); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkTaskCreateDurable: an acknowledged, fsynced task.create.
func BenchmarkTaskCreateDurable(b *testing.B) {
	ip := serveInProcess(b, nil)
	c, err := dialDaemon(ip.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Call(ctx, "task.create", map[string]string{"title": fmt.Sprintf("bench %d", i)}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandleLineParseError: the dispatcher's cost for a bad line.
func BenchmarkHandleLineParseError(b *testing.B) {
	d := &dispatcher{methods: map[string]handler{}}
	line := []byte(`{"jsonrpc":"2.0","id":1,"method":`)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		if d.handleLine(ctx, line) == nil {
			b.Fatal("no reply")
		}
	}
}
