package devidp_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/dbiam/dbiam/internal/devidp"
)

// A signed response for a user, without the HTTP server (as `dbiam demo`
// uses it). The signing key is generated in the data dir on first use.
func ExampleIdP_Response() {
	dir, err := os.MkdirTemp("", "devidp-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	idp, err := devidp.New(devidp.Config{
		BaseURL:   "http://127.0.0.1:8440",
		DataDir:   dir,
		AccountID: "123456789012",
		Users:     []devidp.User{{Username: "alice", Password: "dev-only", Roles: []string{"RedshiftSSO"}, DBUser: "alice"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	samlResponse, err := idp.Response("alice", "RedshiftSSO", time.Now())
	if err != nil {
		log.Fatal(err)
	}
	roles, _ := idp.Roles("alice")
	fmt.Println(idp.EntityID())
	fmt.Println(roles[0].RoleARN, roles[0].ProviderARN)
	fmt.Println(samlResponse != "")
	// Output:
	// http://127.0.0.1:8440/metadata
	// arn:aws:iam::123456789012:role/RedshiftSSO arn:aws:iam::123456789012:saml-provider/DevIdP
	// true
}
