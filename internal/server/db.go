package server

import (
	"time"

	"github.com/sesameauth/sesame/internal/config"
	"github.com/sesameauth/sesame/internal/store/sqlstore"
)

// StoreOptions turns the server config's db_* keys into the store's pool options (zero keys
// keep sqlstore's defaults). The CLI's admin verbs open the database with the same options.
func StoreOptions(cfg config.Server) sqlstore.Options {
	return sqlstore.Options{
		MaxOpenConns:     cfg.DBMaxOpenConns,
		MaxIdleConns:     cfg.DBMaxIdleConns,
		ConnMaxLifetime:  time.Duration(cfg.DBConnMaxLifetimeSeconds) * time.Second,
		StatementTimeout: time.Duration(cfg.DBStatementTimeoutMS) * time.Millisecond,
	}
}
