package policy_test

import (
	"fmt"

	"github.com/dbiam/dbiam/internal/policy"
)

// The Redshift management guide's example policy: a SAML session may get
// credentials only for the database user named like its RoleSessionName.
func ExampleEvaluate() {
	doc := []byte(`{"Version":"2012-10-17","Statement":[
	 {"Sid":"GetClusterCredsStatement","Effect":"Allow","Action":"redshift:GetClusterCredentials",
	  "Resource":"arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/${redshift:DbUser}",
	  "Condition":{"StringEquals":{"aws:userid":"AIDIODR4TAW7CSEXAMPLE:${redshift:DbUser}@yourdomain.com"}}}]}`)
	p, err := policy.Parse(doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	set := policy.PolicySet{Identity: []*policy.NamedPolicy{{Name: "alice-redshift", Policy: p}}}

	for _, dbUser := range []string{"alice", "bob"} {
		req := &policy.Request{
			Action:   "redshift:GetClusterCredentials",
			Resource: "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/" + dbUser,
		}
		req.Context.Set("aws:userid", "AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com")
		req.Context.Set("redshift:DbUser", dbUser)
		d := policy.Evaluate(req, set)
		fmt.Println(dbUser, d.Effect, d.Matched)
	}
	// Output:
	// alice allowed [GetClusterCredsStatement]
	// bob implicitDeny []
}

// A parse error says where and why, ready for a MalformedPolicyDocument
// message.
func ExampleParse_error() {
	_, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
	  {"Effect":"allow","Action":"s3:PutObject","Resource":"*"}]}`))
	fmt.Println(err)
	// Output:
	// Statement[1].Effect: must be "Allow" or "Deny", got "allow"
}

func ExampleDecision_Explain() {
	p, _ := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[
	  {"Sid":"Read","Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::reports/*"},
	  {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::reports/secret/*"}]}`))
	req := &policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/secret/plan.txt", Trace: true}
	d := policy.Evaluate(req, policy.PolicySet{Identity: []*policy.NamedPolicy{{Name: "reports", Policy: p}}})
	fmt.Print(d.Explain())
	// Output:
	// Decision: explicitDeny (explicitly denied by a Deny statement)
	// Request:  s3:GetObject on arn:aws:s3:::reports/secret/plan.txt
	// Decided by:
	//   identity policy "reports" statement NoSecrets (#1, Deny)
	// Statements:
	//   identity "reports" Read (#0, Allow): matched
	//   identity "reports" NoSecrets (#1, Deny): matched
}
