package iam_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/dbiam/dbiam/internal/testutil/awstest"
)

// redshiftExamplePolicy is "Example policy for using GetClusterCredentials"
// from the Redshift management guide (redshift-iam-access-control-identity-based).
const redshiftExamplePolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"GetClusterCredsStatement","Effect":"Allow","Action":["redshift:GetClusterCredentials"],
  "Resource":["arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/${redshift:DbUser}",
              "arn:aws:redshift:us-west-2:123456789012:dbname:examplecluster/testdb",
              "arn:aws:redshift:us-west-2:123456789012:dbgroup:examplecluster/common_group"],
  "Condition":{"StringEquals":{"aws:userid":"AIDIODR4TAW7CSEXAMPLE:${redshift:DbUser}@yourdomain.com"}}},
 {"Sid":"CreateClusterUserStatement","Effect":"Allow","Action":["redshift:CreateClusterUser"],
  "Resource":["arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/${redshift:DbUser}"],
  "Condition":{"StringEquals":{"aws:userid":"AIDIODR4TAW7CSEXAMPLE:${redshift:DbUser}@yourdomain.com"}}},
 {"Sid":"RedshiftJoinGroupStatement","Effect":"Allow","Action":["redshift:JoinGroup"],
  "Resource":["arn:aws:redshift:us-west-2:123456789012:dbgroup:examplecluster/common_group"]}]}`

func ctxEntry(key, value string) types.ContextEntry {
	return types.ContextEntry{ContextKeyName: aws.String(key), ContextKeyValues: []string{value}, ContextKeyType: types.ContextKeyTypeEnumString}
}

func TestSimulateCustomPolicyRedshiftExample(t *testing.T) {
	srv := awstest.Start(t)
	root := srv.RootIAM()
	const alice = "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/alice"
	tests := []struct {
		name, action, resource string
		ctx                    []types.ContextEntry
		want                   types.PolicyEvaluationDecisionType
		wantMatched            string
		wantMissing            []string
	}{
		{"session name matches DbUser", "redshift:GetClusterCredentials", alice,
			[]types.ContextEntry{ctxEntry("aws:userid", "AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com"), ctxEntry("redshift:DbUser", "alice")},
			types.PolicyEvaluationDecisionTypeAllowed, "PolicyInputList.1", nil},
		{"another session asks for alice", "redshift:GetClusterCredentials", alice,
			[]types.ContextEntry{ctxEntry("aws:userid", "AIDIODR4TAW7CSEXAMPLE:bob@yourdomain.com"), ctxEntry("redshift:DbUser", "alice")},
			types.PolicyEvaluationDecisionTypeImplicitDeny, "", nil},
		{"no context reports what is missing", "redshift:GetClusterCredentials", alice, nil,
			types.PolicyEvaluationDecisionTypeImplicitDeny, "", []string{"redshift:DbUser", "aws:userid"}},
		{"join the listed group", "redshift:JoinGroup", "arn:aws:redshift:us-west-2:123456789012:dbgroup:examplecluster/common_group", nil,
			types.PolicyEvaluationDecisionTypeAllowed, "PolicyInputList.1", nil},
		{"join another group", "redshift:JoinGroup", "arn:aws:redshift:us-west-2:123456789012:dbgroup:examplecluster/admins", nil,
			types.PolicyEvaluationDecisionTypeImplicitDeny, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := root.SimulateCustomPolicy(t.Context(), &iam.SimulateCustomPolicyInput{
				PolicyInputList: []string{redshiftExamplePolicy}, ActionNames: []string{tt.action},
				ResourceArns: []string{tt.resource}, ContextEntries: tt.ctx,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.EvaluationResults) != 1 {
				t.Fatalf("%d results", len(out.EvaluationResults))
			}
			r := out.EvaluationResults[0]
			if r.EvalDecision != tt.want {
				t.Errorf("decision %s, want %s", r.EvalDecision, tt.want)
			}
			if tt.wantMatched != "" && (len(r.MatchedStatements) != 1 || aws.ToString(r.MatchedStatements[0].SourcePolicyId) != tt.wantMatched) {
				t.Errorf("matched %+v", r.MatchedStatements)
			}
			if tt.wantMissing != nil {
				got := map[string]bool{}
				for _, k := range r.MissingContextValues {
					got[k] = true
				}
				for _, k := range tt.wantMissing {
					if !got[k] {
						t.Errorf("missing context values %v lack %s", r.MissingContextValues, k)
					}
				}
			}
		})
	}
}

func TestSimulateCustomPolicyErrorsAndPaging(t *testing.T) {
	srv := awstest.Start(t)
	root := srv.RootIAM()
	_, err := root.SimulateCustomPolicy(t.Context(), &iam.SimulateCustomPolicyInput{PolicyInputList: []string{`{"Version":"2012-10-17","Statement":{"effect":"Allow"}}`}, ActionNames: []string{"s3:GetObject"}})
	wantCode(t, err, "MalformedPolicyDocument")

	allow := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	deny := `{"Version":"2012-10-17","Statement":{"Sid":"NoDelete","Effect":"Deny","Action":"iam:Delete*","Resource":"*"}}`
	var results []types.EvaluationResult
	p := iam.NewSimulateCustomPolicyPaginator(root, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{allow, deny},
		ActionNames: []string{"iam:CreateUser", "iam:DeleteUser", "iam:GetUser"}, ResourceArns: []string{"arn:aws:iam::123456789012:user/a", "arn:aws:iam::123456789012:user/b"}, MaxItems: aws.Int32(4)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, out.EvaluationResults...)
	}
	if len(results) != 6 {
		t.Fatalf("%d results", len(results))
	}
	for _, r := range results {
		want := types.PolicyEvaluationDecisionTypeAllowed
		if aws.ToString(r.EvalActionName) == "iam:DeleteUser" {
			want = types.PolicyEvaluationDecisionTypeExplicitDeny
		}
		if r.EvalDecision != want {
			t.Errorf("%s on %s: %s", aws.ToString(r.EvalActionName), aws.ToString(r.EvalResourceName), r.EvalDecision)
		}
	}
}

func TestSimulatePrincipalPolicy(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dana")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dana"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	out, err := root.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::123456789012:user/dana"),
		ActionNames: []string{"iam:ListUsers", "iam:DeleteUser"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.EvaluationResults[0].EvalDecision != types.PolicyEvaluationDecisionTypeAllowed ||
		aws.ToString(out.EvaluationResults[0].MatchedStatements[0].SourcePolicyId) != "list" ||
		out.EvaluationResults[0].MatchedStatements[0].SourcePolicyType != types.PolicySourceTypeUser {
		t.Errorf("ListUsers: %+v", out.EvaluationResults[0])
	}
	if out.EvaluationResults[1].EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny {
		t.Errorf("DeleteUser: %s", out.EvaluationResults[1].EvalDecision)
	}
	_, err = root.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::123456789012:user/nobody"), ActionNames: []string{"iam:ListUsers"}})
	wantCode(t, err, "NoSuchEntity")
	_, err = root.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:s3:::bucket"), ActionNames: []string{"iam:ListUsers"}})
	wantCode(t, err, "InvalidInput")
}
