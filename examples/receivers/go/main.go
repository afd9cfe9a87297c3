// A hookd receiver in Go (standard library only). Run: WEBHOOK_SECRET=... PORT=3000 go run main.go
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A captured request cannot be replayed later than this.
const tolerance = 300 // seconds

func main() {
	secret := os.Getenv("WEBHOOK_SECRET")
	// A whsec_ secret is base64 after the prefix (Standard Webhooks); any other is used as its bytes.
	key := []byte(secret)
	if strings.HasPrefix(secret, "whsec_") {
		decoded, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			log.Fatal("WEBHOOK_SECRET: ", err)
		}
		key = decoded
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	// webhook-ids already handled: a delivery can arrive twice. Use your database in production.
	var mu sync.Mutex
	seen := map[string]bool{}
	var order []string // the latest 10,000

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		id := r.Header.Get("webhook-id")
		timestamp := r.Header.Get("webhook-timestamp")
		sent, err := strconv.ParseUint(timestamp, 10, 63)
		age := time.Now().Unix() - int64(sent)
		if id == "" || err != nil || age > tolerance || age < -tolerance {
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + timestamp + "."))
		mac.Write(body)
		expected := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		valid := false
		// One entry per valid secret during a rotation; hmac.Equal is constant time.
		for _, signature := range strings.Split(r.Header.Get("webhook-signature"), " ") {
			valid = valid || hmac.Equal([]byte(expected), []byte(signature))
		}
		if !valid {
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}
		mu.Lock()
		first := !seen[id]
		if first {
			seen[id] = true
			order = append(order, id)
			if len(order) > 10_000 {
				delete(seen, order[0])
				order = order[1:]
			}
		}
		mu.Unlock()
		if first {
			var event any
			if err := json.Unmarshal(body, &event); err != nil {
				http.Error(w, "not JSON", http.StatusBadRequest)
				return
			}
			fmt.Println(r.Header.Get("X-Topic"), id, event)
		}
		fmt.Fprint(w, "ok")
	})
	listener, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening on", port)
	log.Fatal(http.Serve(listener, nil))
}
