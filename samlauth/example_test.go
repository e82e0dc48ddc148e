package samlauth_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"

	"github.com/dbiam/dbiam/samlauth"
)

// A saml-form login at the development IdP, used as the AWS credentials of
// a Redshift client; the SAML attributes choose the database user.
func ExampleNewCredentialsProvider() {
	ctx := context.Background()
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{
		Plugin:   samlauth.PluginForm,
		IdPURL:   "http://127.0.0.1:8440/login",
		Username: "alice",
		Password: "alice-dev-password", // from a prompt or a secret store in real code
		Region:   "us-east-1", STSEndpointURL: "http://127.0.0.1:8439",
	})
	if err != nil {
		log.Fatal(err)
	}
	attrs, err := p.Attributes(ctx) // signs in
	if err != nil {
		log.Fatal(err)
	}
	opts := attrs.Resolve(samlauth.DbOptions{}) // nothing given: the SAML DbUser, DbGroups, AutoCreate
	client := redshift.New(redshift.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:8439"),
		Credentials: aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = samlauth.ExpiryWindow }),
	})
	out, err := client.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String("dev"), DbUser: aws.String(opts.DbUser), DbGroups: opts.DbGroups, AutoCreate: opts.AutoCreate,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("log in as", aws.ToString(out.DbUser))
}

func ExampleChooseRole() {
	roles := []samlauth.RolePair{
		{RoleARN: "arn:aws:iam::123456789012:role/Analyst", ProviderARN: "arn:aws:iam::123456789012:saml-provider/Corp"},
		{RoleARN: "arn:aws:iam::123456789012:role/Admin", ProviderARN: "arn:aws:iam::123456789012:saml-provider/Corp"},
	}
	_, err := samlauth.ChooseRole(roles, "")
	fmt.Println(err)
	r, _ := samlauth.ChooseRole(roles, "arn:aws:iam::123456789012:role/Admin")
	fmt.Println(r.RoleARN)
	// Output:
	// samlauth: the SAML response lists several roles: choose one with the preferred role option: arn:aws:iam::123456789012:role/Analyst, arn:aws:iam::123456789012:role/Admin
	// arn:aws:iam::123456789012:role/Admin
}

func ExampleAttributes_Resolve() {
	attrs := samlauth.Attributes{DbUser: "alice", DbGroups: []string{"Analysts"}, AutoCreate: aws.Bool(true), ForceLowercase: true}
	fmt.Printf("%+v\n", show(attrs.Resolve(samlauth.DbOptions{})))
	// A DbUser given by the user wins, unless the response says AllowDbUserOverride.
	fmt.Printf("%+v\n", show(attrs.Resolve(samlauth.DbOptions{DbUser: "bob", AutoCreate: aws.Bool(false)})))
	// Output:
	// {DbUser:alice DbGroups:[analysts] AutoCreate:true ForceLowercase:true}
	// {DbUser:bob DbGroups:[analysts] AutoCreate:false ForceLowercase:true}
}

type shown struct {
	DbUser                     string
	DbGroups                   []string
	AutoCreate, ForceLowercase bool
}

func show(o samlauth.DbOptions) shown {
	return shown{o.DbUser, o.DbGroups, aws.ToBool(o.AutoCreate), aws.ToBool(o.ForceLowercase)}
}
