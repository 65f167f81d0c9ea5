package server

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/seal"
)

// The key-encryption key is loaded here, not in internal/config: config only parses, and
// reading or creating a key file is part of opening a tenant, as the store is.

// DefaultKEKFileName is the KEK file created beside a SQLite database when the config names no
// key-encryption key.
const DefaultKEKFileName = "sesame.kek"

// KEKSource describes where LoadKEK found (or put) the key-encryption key.
type KEKSource struct {
	// From is "kek", "kek_file", "default_file" or "ephemeral" (an in-memory database).
	From string
	// Path is the file read or created (empty for From == "kek").
	Path string
	// Created reports that the default file did not exist and was created (mode 0600).
	Created bool
}

// LoadKEK returns the key-encryption key of s: from KEK, else from KEKFile, else (SQLite only) from
// sesame.kek beside the database file, created with mode 0600 on first use. PostgreSQL needs an
// explicit kek or kek_file: nodes sharing the database must share the key.
func LoadKEK(s config.Server) ([]byte, KEKSource, error) {
	switch {
	case s.KEK != "":
		k, err := seal.ParseKEK(s.KEK)
		return k, KEKSource{From: "kek"}, err
	case s.KEKFile != "":
		k, _, err := seal.LoadOrCreateKEKFile(s.KEKFile, false)
		if err != nil {
			return nil, KEKSource{}, fmt.Errorf("kek_file: %w", err)
		}
		return k, KEKSource{From: "kek_file", Path: s.KEKFile}, nil
	}
	db, ok := s.SQLitePath()
	if !ok {
		return nil, KEKSource{}, errors.New("kek: a PostgreSQL database needs an explicit kek or kek_file")
	}
	if db == ":memory:" {
		// Nothing outlives an in-memory database, so neither need its key.
		return seal.NewKEK(), KEKSource{From: "ephemeral"}, nil
	}
	path := filepath.Join(filepath.Dir(db), DefaultKEKFileName)
	k, created, err := seal.LoadOrCreateKEKFile(path, true)
	if err != nil {
		return nil, KEKSource{}, fmt.Errorf("default kek file: %w", err)
	}
	return k, KEKSource{From: "default_file", Path: path, Created: created}, nil
}
