package apiauth_test

import (
	"context"
	"encoding/json"
	"log"
	"net/http"

	"github.com/sesameauth/sesame/apiauth"
)

// An API that serves GET /messages to tokens granted read:messages.
func ExampleValidator_Middleware() {
	v, err := apiauth.New(apiauth.Config{
		Issuer:   "https://auth.example.com/",
		Audience: "https://api.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := v.Prefetch(context.Background()); err != nil {
		log.Printf("JWKS not reachable yet: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /messages", v.Middleware(apiauth.RequireScope("read:messages")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, _ := apiauth.FromContext(r.Context())
			_ = json.NewEncoder(w).Encode(map[string]any{"sub": claims.Subject, "scope": claims.Scope})
		}))))
	_ = http.ListenAndServe(":8080", mux)
}
