package query_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/dbiam/dbiam/internal/awsproto/query"
)

func Example() {
	body := []byte("Action=GetClusterCredentials&Version=2012-12-01&DbUser=alice" +
		"&ClusterIdentifier=examplecluster&AutoCreate=true&DbGroups.DbGroup.1=analysts")
	p, err := query.Parse(body, "")
	if err != nil {
		panic(err)
	}
	var in struct {
		DbUser            string   `query:"DbUser,required"`
		DbName            *string  `query:"DbName"`
		ClusterIdentifier *string  `query:"ClusterIdentifier"`
		DurationSeconds   *int32   `query:"DurationSeconds"`
		AutoCreate        *bool    `query:"AutoCreate"`
		DbGroups          []string `query:"DbGroups,list=DbGroup"`
	}
	if err := query.Decode(p, &in); err != nil {
		panic(err)
	}
	fmt.Println(p.Action(), in.DbUser, *in.ClusterIdentifier, *in.AutoCreate, in.DbGroups, in.DbName == nil)

	out := struct {
		DbUser     string          `xml:"DbUser"`
		DbPassword string          `xml:"DbPassword"`
		Expiration query.Timestamp `xml:"Expiration"`
	}{"IAMA:alice", "EXAMPLE==", query.Timestamp(time.Date(2016, 12, 8, 21, 12, 53, 0, time.UTC))}
	doc, err := query.MarshalResponse(p.Action(), "http://redshift.amazonaws.com/doc/2012-12-01/", "req-1", &out)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(doc))
	// Output:
	// GetClusterCredentials alice examplecluster true [analysts] true
	// <GetClusterCredentialsResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/"><GetClusterCredentialsResult><DbUser>IAMA:alice</DbUser><DbPassword>EXAMPLE==</DbPassword><Expiration>2016-12-08T21:12:53Z</Expiration></GetClusterCredentialsResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetClusterCredentialsResponse>
}

func ExampleDecode_error() {
	p, _ := query.Parse([]byte("Action=GetClusterCredentials&AutoCreate=yes&DbUser=alice"), "")
	var in struct {
		DbUser     string `query:"DbUser,required"`
		AutoCreate *bool  `query:"AutoCreate"`
	}
	err := query.Decode(p, &in)
	var qe *query.Error
	if errors.As(err, &qe) {
		fmt.Println(qe.AWSErrorCode())
		fmt.Println(qe.AWSErrorMessage())
	}
	// Output:
	// InvalidParameterValue
	// Invalid boolean value 'yes' for parameter AutoCreate: use true or false
}

func ExampleMarshalError() {
	fmt.Println(string(query.MarshalError("https://sts.amazonaws.com/doc/2011-06-15/", "req-1", "Sender",
		"MissingParameter", "The request must contain the parameter RoleArn")))
	// Output:
	// <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>MissingParameter</Code><Message>The request must contain the parameter RoleArn</Message></Error><RequestId>req-1</RequestId></ErrorResponse>
}
