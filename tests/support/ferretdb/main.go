// Command ferretdb-test-server runs FerretDB (MongoDB wire protocol, SQLite backend) for
// voxq's tests and offline demo. It prints exactly one line to stdout once it accepts
// connections, "READY <mongodb-uri>", and runs until SIGTERM or SIGINT, then exits 0.
// Its own logs go to stderr, at error level by default: at warn, FerretDB dumps every error
// reply it sends (a test expecting E11000 would print a page).
//
// With -exit-with-stdin it also stops when its stdin reaches EOF, and with -remove-dir it
// removes its data directory once stopped, so a launcher killed without cleaning up (SIGKILL)
// leaves neither a process nor a folder behind.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on; port 0 picks a free port")
	dir := flag.String("dir", "", "SQLite data directory (created if missing)")
	logLevel := flag.String("log-level", "error", "FerretDB log level: debug, info, warn or error")
	exitWithStdin := flag.Bool("exit-with-stdin", false, "stop when stdin reaches EOF (the launching process is gone)")
	removeDir := flag.Bool("remove-dir", false, "remove -dir once stopped (a throwaway data directory)")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-test-server: -log-level: %v\n", err)
		os.Exit(2)
	}

	if err := run(*listen, *dir, level, *exitWithStdin, *removeDir); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-test-server: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, dir string, level slog.Level, exitWithStdin, removeDir bool) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}

	absDir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolve -dir: %w", err)
	}

	if err = os.MkdirAll(absDir, 0o755); err != nil {
		return fmt.Errorf("create -dir: %w", err)
	}

	if removeDir {
		defer os.RemoveAll(absDir)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	if exitWithStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	// New opens the TCP listener itself, so port 0 resolves to a concrete free port here
	// and MongoDBURI reports it.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + absDir + "/",
	})
	if err != nil {
		return err
	}

	done := make(chan error, 1)

	go func() { done <- f.Run(ctx) }()

	fmt.Printf("READY %s\n", f.MongoDBURI())

	return <-done
}
