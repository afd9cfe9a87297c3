// A hookd receiver in Go (standard library only). Run: WEBHOOK_SECRET=... PORT=3000 go run main.go
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	secret := []byte(os.Getenv("WEBHOOK_SECRET"))
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		expected := hex.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(expected), []byte(r.Header.Get("X-Signature"))) { // constant time
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}
		var event any
		if err := json.Unmarshal(body, &event); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		fmt.Println(r.Header.Get("X-Topic"), r.Header.Get("X-Event-Id"), event)
		fmt.Fprint(w, "ok")
	})
	listener, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening on", port)
	log.Fatal(http.Serve(listener, nil))
}
