package keys_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/sqlstore"
	"github.com/google/uuid"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "keys-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The database, and the master key file beside it (made on first use).
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "carebook.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	master, err := keys.OpenFile(filepath.Join(dir, "master.key.json"))
	if err != nil {
		log.Fatal(err)
	}
	s := keys.New(db.Keys, master)

	practice := uuid.New()
	at := keys.Binding{Table: "patients", Column: "phone", Row: "0b8e4a6c"}
	sealed, err := s.Seal(ctx, practice, at, []byte("+15550100"))
	if err != nil {
		log.Fatal(err)
	}
	phone, err := s.Open(ctx, practice, at, sealed)
	fmt.Println(string(phone), err)

	// Copied into another row, it does not open.
	_, err = s.Open(ctx, practice, keys.Binding{Table: "patients", Column: "phone", Row: "5d21f0aa"}, sealed)
	fmt.Println(err != nil)

	// A blind index finds the row without opening every phone number.
	token, _ := s.BlindIndex(ctx, practice, "patients.phone", []byte("+15550100"))
	fmt.Println(len(token))
	// Output:
	// +15550100 <nil>
	// true
	// 16
}
