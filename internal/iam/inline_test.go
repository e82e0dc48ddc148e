package iam_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/dbiam/dbiam/internal/testutil/awstest"
)

// wantMessage checks the code and that the message contains want.
func wantMessage(t *testing.T, err error, code, want string) {
	t.Helper()
	wantCode(t, err, code)
	var ae smithy.APIError
	errors.As(err, &ae)
	if !strings.Contains(ae.ErrorMessage(), want) {
		t.Errorf("%s message %q does not contain %q", code, ae.ErrorMessage(), want)
	}
}

// keyedUser creates an IAM user with an access key and returns a client
// signed by that key.
func keyedUser(t *testing.T, srv *awstest.Server, name string) *iam.Client {
	t.Helper()
	ctx := t.Context()
	root := srv.RootIAM()
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return srv.IAM(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
}

// decodeDoc URL-decodes a policy document as IAM returns it and checks that
// both of Go's decoders agree.
func decodeDoc(t *testing.T, encoded *string) string {
	t.Helper()
	q, err := url.QueryUnescape(aws.ToString(encoded))
	if err != nil {
		t.Fatalf("QueryUnescape(%q): %v", aws.ToString(encoded), err)
	}
	p, err := url.PathUnescape(aws.ToString(encoded))
	if err != nil {
		t.Fatalf("PathUnescape(%q): %v", aws.ToString(encoded), err)
	}
	if q != p {
		t.Errorf("QueryUnescape %q != PathUnescape %q", q, p)
	}
	return p
}

const (
	allowListUsers = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"arn:aws:iam::123456789012:user/*"}]}`
	denyListUsers  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"arn:aws:iam::123456789012:user/*"},` +
		`{"Sid":"NoListing","Effect":"Deny","Action":"iam:List*","Resource":"*"}]}`
	allowGetUser = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`
)

func TestUserGetsAccessFromInlinePolicy(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	bob := keyedUser(t, srv, "bob")

	// No policy: nothing is allowed.
	_, err := bob.ListUsers(ctx, &iam.ListUsersInput{})
	wantMessage(t, err, "AccessDenied", "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: iam:ListUsers")

	// An inline user policy allows it.
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("list"), PolicyDocument: aws.String(allowListUsers)}); err != nil {
		t.Fatal(err)
	}
	users, err := bob.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		t.Fatalf("ListUsers with an allowing policy: %v", err)
	}
	if len(users.Users) != 1 || aws.ToString(users.Users[0].UserName) != "bob" {
		t.Errorf("users %+v", users.Users)
	}

	// An explicit Deny wins over the Allow.
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("list"), PolicyDocument: aws.String(denyListUsers)}); err != nil {
		t.Fatal(err)
	}
	_, err = bob.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	var ae smithy.APIError
	errors.As(err, &ae)
	if !strings.HasSuffix(ae.ErrorMessage(), "with an explicit deny") {
		t.Errorf("message %q does not end with \"with an explicit deny\"", ae.ErrorMessage())
	}
	if _, err := root.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("LIST")}); err != nil {
		t.Fatal(err)
	}
	_, err = bob.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")

	// The same through a group's inline policy.
	_, err = bob.GetUser(ctx, &iam.GetUserInput{})
	wantCode(t, err, "AccessDenied")
	if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("readers")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("readers"), PolicyName: aws.String("get"), PolicyDocument: aws.String(allowGetUser)}); err != nil {
		t.Fatal(err)
	}
	_, err = bob.GetUser(ctx, &iam.GetUserInput{})
	wantCode(t, err, "AccessDenied") // not a member yet
	if _, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	me, err := bob.GetUser(ctx, &iam.GetUserInput{})
	if err != nil {
		t.Fatalf("GetUser as a member of readers: %v", err)
	}
	if aws.ToString(me.User.Arn) != "arn:aws:iam::123456789012:user/bob" {
		t.Errorf("GetUser = %s", aws.ToString(me.User.Arn))
	}
	if _, err := root.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("readers"), UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	_, err = bob.GetUser(ctx, &iam.GetUserInput{})
	wantMessage(t, err, "AccessDenied", "iam:GetUser on resource: arn:aws:iam::123456789012:user/bob")
}

// TestInlinePoliciesAuthorizeOnOwnerARN checks that the inline policy
// actions are authorized on the owner's ARN, path included, and that a
// refused call writes nothing.
func TestInlinePoliciesAuthorizeOnOwnerARN(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	bob := keyedUser(t, srv, "bob")
	for _, r := range []struct{ name, path string }{{"app-role", "/app/"}, {"other-role", "/"}} {
		if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r.name), Path: aws.String(r.path), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
			t.Fatal(err)
		}
	}
	const admin = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PutRolePolicy","iam:GetRolePolicy"],"Resource":"arn:aws:iam::123456789012:role/app/*"}]}`
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("app-admin"), PolicyDocument: aws.String(admin)}); err != nil {
		t.Fatal(err)
	}
	put := func(role string) error {
		_, err := bob.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowGetUser)})
		return err
	}
	if err := put("app-role"); err != nil {
		t.Fatalf("PutRolePolicy on a role under /app/: %v", err)
	}
	if _, err := bob.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("app-role"), PolicyName: aws.String("p")}); err != nil {
		t.Fatalf("GetRolePolicy on a role under /app/: %v", err)
	}
	wantMessage(t, put("other-role"), "AccessDenied", "iam:PutRolePolicy on resource: arn:aws:iam::123456789012:role/other-role")
	// A missing role is not revealed to a caller who may not act on it.
	wantCode(t, put("ghost"), "AccessDenied")
	list, err := root.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("other-role")})
	if err != nil || len(list.PolicyNames) != 0 {
		t.Fatalf("the refused put wrote something: %+v %v", list, err)
	}
}

func TestInlinePolicies(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatal(err)
	}

	// ops runs the four actions of one owner kind.
	type ops struct {
		put    func(owner, name, doc string) error
		get    func(owner, name string) (gotOwner, gotName string, doc *string, err error)
		list   func(owner string, max *int32, marker *string) ([]string, bool, *string, error)
		delete func(owner, name string) error
	}
	kinds := []struct {
		kind, owner string
		maxSize     int
		ops         ops
	}{
		{"user", "alice", 2048, ops{
			put: func(o, n, d string) error {
				_, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: &o, PolicyName: &n, PolicyDocument: &d})
				return err
			},
			get: func(o, n string) (string, string, *string, error) {
				out, err := root.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: &o, PolicyName: &n})
				if err != nil {
					return "", "", nil, err
				}
				return aws.ToString(out.UserName), aws.ToString(out.PolicyName), out.PolicyDocument, nil
			},
			list: func(o string, max *int32, marker *string) ([]string, bool, *string, error) {
				out, err := root.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: &o, MaxItems: max, Marker: marker})
				if err != nil {
					return nil, false, nil, err
				}
				return out.PolicyNames, out.IsTruncated, out.Marker, nil
			},
			delete: func(o, n string) error {
				_, err := root.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: &o, PolicyName: &n})
				return err
			},
		}},
		{"group", "devs", 5120, ops{
			put: func(o, n, d string) error {
				_, err := root.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: &o, PolicyName: &n, PolicyDocument: &d})
				return err
			},
			get: func(o, n string) (string, string, *string, error) {
				out, err := root.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: &o, PolicyName: &n})
				if err != nil {
					return "", "", nil, err
				}
				return aws.ToString(out.GroupName), aws.ToString(out.PolicyName), out.PolicyDocument, nil
			},
			list: func(o string, max *int32, marker *string) ([]string, bool, *string, error) {
				out, err := root.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: &o, MaxItems: max, Marker: marker})
				if err != nil {
					return nil, false, nil, err
				}
				return out.PolicyNames, out.IsTruncated, out.Marker, nil
			},
			delete: func(o, n string) error {
				_, err := root.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: &o, PolicyName: &n})
				return err
			},
		}},
		{"role", "app", 10240, ops{
			put: func(o, n, d string) error {
				_, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &o, PolicyName: &n, PolicyDocument: &d})
				return err
			},
			get: func(o, n string) (string, string, *string, error) {
				out, err := root.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &o, PolicyName: &n})
				if err != nil {
					return "", "", nil, err
				}
				return aws.ToString(out.RoleName), aws.ToString(out.PolicyName), out.PolicyDocument, nil
			},
			list: func(o string, max *int32, marker *string) ([]string, bool, *string, error) {
				out, err := root.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &o, MaxItems: max, Marker: marker})
				if err != nil {
					return nil, false, nil, err
				}
				return out.PolicyNames, out.IsTruncated, out.Marker, nil
			},
			delete: func(o, n string) error {
				_, err := root.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: &o, PolicyName: &n})
				return err
			},
		}},
	}

	// A document with spaces, newlines, a '+', '%', '&', non-ASCII and a
	// condition: it must come back byte for byte.
	const fancy = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Sid\": \"Read\",\n    \"Effect\": \"Allow\",\n" +
		"    \"Action\": [\"iam:Get*\", \"iam:List*\"],\n    \"Resource\": \"arn:aws:iam::123456789012:user/a+b=c,d.e@f-g_h\",\n" +
		"    \"Condition\": {\"StringLike\": {\"aws:PrincipalTag/team\": \"data & ops 100% — ü?\"}}\n  }]\n}"

	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			o := k.ops
			if err := o.put(k.owner, "Fancy", fancy); err != nil {
				t.Fatal(err)
			}
			owner, name, doc, err := o.get(strings.ToUpper(k.owner), "fancy")
			if err != nil {
				t.Fatal(err)
			}
			if owner != k.owner || name != "Fancy" {
				t.Errorf("get = %s/%s, want %s/Fancy", owner, name, k.owner)
			}
			if strings.ContainsAny(aws.ToString(doc), " \n{\"") {
				t.Errorf("document is not URL-encoded: %q", aws.ToString(doc))
			}
			if got := decodeDoc(t, doc); got != fancy {
				t.Errorf("document round trip:\n got %q\nwant %q", got, fancy)
			}

			// Putting under the same name (any case) replaces.
			if err := o.put(k.owner, "FANCY", allowGetUser); err != nil {
				t.Fatal(err)
			}
			_, name, doc, err = o.get(k.owner, "Fancy")
			if err != nil || name != "FANCY" || decodeDoc(t, doc) != allowGetUser {
				t.Fatalf("after replace: %s %q %v", name, aws.ToString(doc), err)
			}
			for _, n := range []string{"b", "c", "a"} {
				if err := o.put(k.owner, n, allowGetUser); err != nil {
					t.Fatal(err)
				}
			}
			var all []string
			var marker *string
			for pages := 0; ; pages++ {
				names, truncated, next, err := o.list(k.owner, aws.Int32(3), marker)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, names...)
				if !truncated {
					if pages != 1 {
						t.Errorf("%d pages, want 2", pages+1)
					}
					break
				}
				marker = next
			}
			if strings.Join(all, ",") != "a,b,c,FANCY" {
				t.Errorf("list = %v", all)
			}

			errCases := []struct {
				name, owner, policy, doc string
				code, message            string
			}{
				{"broken JSON", k.owner, "p", `{"Version":"2012-10-17","Statement":[`, "MalformedPolicyDocument", ""},
				{"lower-case effect", k.owner, "p", `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`, "MalformedPolicyDocument", "Effect"},
				{"principal in an identity policy", k.owner, "p", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, "MalformedPolicyDocument", "Principal"},
				{"no resource", k.owner, "p", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]}`, "MalformedPolicyDocument", ""},
				{"illegal policy name", k.owner, "no/slash", allowGetUser, "ValidationError", "policyName"},
				{"illegal owner name", "bad owner!", "p", allowGetUser, "ValidationError", k.kind + "Name"},
				{"policy name too long", k.owner, strings.Repeat("p", 129), allowGetUser, "ValidationError", "length"},
				{"no such owner", "nobody", "p", allowGetUser, "NoSuchEntity", "The " + k.kind + " with name nobody cannot be found."},
				{"over the aggregate quota", k.owner, "big", bigPolicy(k.maxSize), "LimitExceeded", "Maximum policy size"},
			}
			for _, c := range errCases {
				t.Run(c.name, func(t *testing.T) {
					wantMessage(t, o.put(c.owner, c.policy, c.doc), c.code, c.message)
				})
			}
			// Nothing of the refused puts was written.
			names, _, _, err := o.list(k.owner, nil, nil)
			if err != nil || strings.Join(names, ",") != "a,b,c,FANCY" {
				t.Errorf("after refused puts: %v %v", names, err)
			}

			for _, n := range []string{"a", "b", "c", "fancy"} {
				if err := o.delete(k.owner, n); err != nil {
					t.Fatal(err)
				}
			}
			wantMessage(t, o.delete(k.owner, "a"), "NoSuchEntity", "The "+k.kind+" policy with name a cannot be found.")
			_, _, _, err = o.get(k.owner, "a")
			wantMessage(t, err, "NoSuchEntity", "The "+k.kind+" policy with name a cannot be found.")
			_, _, _, err = o.get("nobody", "a")
			wantMessage(t, err, "NoSuchEntity", "The "+k.kind+" with name nobody cannot be found.")
			_, _, _, err = o.list(k.owner, aws.Int32(0), nil)
			wantCode(t, err, "ValidationError")

			// Alone, a document one character over the quota is refused and
			// one exactly at the quota fits.
			wantMessage(t, o.put(k.owner, "big", bigPolicy(k.maxSize+1)), "LimitExceeded", "Maximum policy size")
			if err := o.put(k.owner, "big", bigPolicy(k.maxSize)); err != nil {
				t.Fatalf("a policy under the quota: %v", err)
			}
			if err := o.delete(k.owner, "big"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// bigPolicy returns an identity policy of size characters (not counting
// whitespace).
func bigPolicy(size int) string {
	head := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::123456789012:user/`
	tail := `"}]}`
	n := size - len(head) - len(tail)
	if n < 1 {
		n = 1
	}
	return head + strings.Repeat("x", n) + tail
}
