package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"ikra/app/config"
	"ikra/app/store"
	"ikra/app/terms"
)

const termsUsage = "usage: ikra terms publish --kind offer|privacy FILE.md"

// runTerms is `ikra terms publish --kind offer|privacy FILE.md`: it publishes the file
// as the current version of the document, effective now. It needs only the database.
func runTerms(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "publish" {
		return errors.New(termsUsage)
	}
	fs := flag.NewFlagSet("terms publish", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	kind := fs.String("kind", "", "offer or privacy")
	// Flags may come before or after the file name.
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("%w\n%s", err, termsUsage)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 || *kind == "" {
		return errors.New(termsUsage)
	}
	body, err := os.ReadFile(files[0])
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	// The placeholder goes first on an empty database, so the file is the newer one.
	if err := terms.EnsureInitial(ctx, db.Client); err != nil {
		return err
	}
	v, err := terms.Publish(ctx, db.Client, *kind, string(body), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "published %s version %s: %s\n", v.Kind, v.Version, v.Title)
	return nil
}
