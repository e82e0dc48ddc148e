package credcache_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dbiam/dbiam/credcache"
)

// A Source usually calls GetClusterCredentials; this one makes up a login.
func ExampleNewRefreshAhead() {
	fetches := 0
	src := credcache.SourceFunc(func(ctx context.Context) (credcache.Credential, error) {
		fetches++
		return credcache.Credential{
			User:       "IAMA:alice:k2j7q4mz5a",
			Password:   "correct horse battery staple",
			Expiration: time.Now().Add(15 * time.Minute),
		}, nil
	})
	cache := credcache.NewRefreshAhead(src)
	defer cache.Close()

	ctx := context.Background()
	for range 3 { // three connections, one fetch
		cred, err := cache.Get(ctx)
		if err != nil {
			fmt.Println("no credential:", err)
			return
		}
		_ = cred.Password // log in with cred.User and cred.Password
	}
	cred, _ := cache.Get(ctx)
	fmt.Println(cred.User, "fetched", fetches, "time(s)")
	fmt.Printf("%+v\n", credcache.Credential{User: cred.User, Password: cred.Password}) // never shows the password
	// Output:
	// IAMA:alice:k2j7q4mz5a fetched 1 time(s)
	// {User:IAMA:alice:k2j7q4mz5a Password:[redacted] Expiration:never}
}

// After the database refuses a login, invalidate the credential that was
// refused and try once more with a fresh one.
func ExampleCache_Invalidate() {
	n := 0
	cache := credcache.NewLazy(credcache.SourceFunc(func(ctx context.Context) (credcache.Credential, error) {
		n++
		return credcache.Credential{User: "alice", Password: fmt.Sprint("pw", n), Expiration: time.Now().Add(time.Hour)}, nil
	}))
	defer cache.Close()

	login := func(cred credcache.Credential) error { // the database only accepts pw2
		if cred.Password != "pw2" {
			return errors.New("password authentication failed")
		}
		return nil
	}
	ctx := context.Background()
	cred, _ := cache.Get(ctx)
	if err := login(cred); err != nil {
		fmt.Println("refused:", err)
		cache.Invalidate(cred)
		cred, _ = cache.Get(ctx)
	}
	fmt.Println("login:", login(cred) == nil, "fetches:", n)
	// Output:
	// refused: password authentication failed
	// login: true fetches: 2
}

// Fetch errors say whether retrying makes sense.
func ExampleIsTemporary() {
	cache := credcache.NewLazy(credcache.SourceFunc(func(ctx context.Context) (credcache.Credential, error) {
		return credcache.Credential{}, context.DeadlineExceeded
	}))
	defer cache.Close()
	_, err := cache.Get(context.Background())
	var fe *credcache.FetchError
	fmt.Println(errors.As(err, &fe), credcache.IsTemporary(err))
	// Output: true true
}
