package clustercreds

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/iam"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/store"
)

// Credential states in the store.
const (
	StateIssuing  = "issuing"
	StateActive   = "active"
	StateRevoking = "revoking"
	StateDropped  = "dropped"
	StateFailed   = "failed"
)

type getClusterCredentialsInput struct {
	DbUser            string   `query:"DbUser,required"`
	DbName            *string  `query:"DbName"`
	ClusterIdentifier *string  `query:"ClusterIdentifier"`
	CustomDomainName  *string  `query:"CustomDomainName"`
	DurationSeconds   *int     `query:"DurationSeconds"`
	AutoCreate        *bool    `query:"AutoCreate"`
	DbGroups          []string `query:"DbGroups,list=DbGroup"`
}

type clusterCredentialsResult struct {
	DbUser          string           `xml:"DbUser"`
	DbPassword      string           `xml:"DbPassword"`
	Expiration      query.Timestamp  `xml:"Expiration"`
	NextRefreshTime *query.Timestamp `xml:"NextRefreshTime,omitempty"`
}

// issueRequest is a validated, authorized request for a credential.
type issueRequest struct {
	cluster    store.Cluster
	dbUser     string // the role the login acts as
	loginBase  string // prefix + user name, before the unique suffix
	dbName     string
	groups     []string
	autoCreate bool
	duration   time.Duration
}

func (s *Service) getClusterCredentials(ctx context.Context, req *dispatch.Request) (any, error) {
	var in getClusterCredentialsInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := s.limiter.allow(req.Principal.ARN, req.Time); err != nil {
		return nil, err
	}
	dbName := deref(in.DbName) // the Python driver sends DbName= for "any database"
	if msg := checkName("DbUser", in.DbUser, MaxDbUserBytes, false); msg != "" {
		return nil, invalidParameter(msg)
	}
	if dbName != "" {
		if msg := checkName("DbName", dbName, 64, false); msg != "" {
			return nil, invalidParameter(msg)
		}
	}
	groups, err := checkGroups(in.DbGroups)
	if err != nil {
		return nil, err
	}
	d, err := durationParam(in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	cluster, err := s.resolveCluster(ctx, in.ClusterIdentifier, in.CustomDomainName)
	if err != nil {
		return nil, err
	}
	autoCreate := in.AutoCreate != nil && *in.AutoCreate

	// Authorization, as Redshift documents it (spec §3.2).
	keys := map[string][]string{"redshift:DbUser": {in.DbUser}}
	if dbName != "" {
		keys["redshift:DbName"] = []string{dbName}
	}
	if in.DurationSeconds != nil {
		keys["redshift:DurationSeconds"] = []string{strconv.Itoa(*in.DurationSeconds)}
	}
	userARN := s.resourceARN(req.Region, "dbuser", cluster.Identifier+"/"+in.DbUser)
	checks := []iam.Check{{Action: "redshift:GetClusterCredentials", Resource: userARN, Context: keys}}
	if dbName != "" {
		checks = append(checks, iam.Check{Action: "redshift:GetClusterCredentials", Resource: s.resourceARN(req.Region, "dbname", cluster.Identifier+"/"+dbName), Context: keys})
	}
	for _, g := range groups {
		checks = append(checks, iam.Check{Action: "redshift:JoinGroup", Resource: s.resourceARN(req.Region, "dbgroup", cluster.Identifier+"/"+g), Context: keys})
	}
	if autoCreate {
		checks = append(checks, iam.Check{Action: "redshift:CreateClusterUser", Resource: userARN, Context: keys})
	}
	for _, c := range checks {
		if err := s.authz.Check(ctx, req, c); err != nil {
			return nil, err
		}
	}
	prefix := prefixIAM
	if autoCreate {
		prefix = prefixIAMCreate
	}
	return s.issue(ctx, req, issueRequest{cluster: cluster, dbUser: in.DbUser, loginBase: prefix + in.DbUser, dbName: dbName,
		groups: groups, autoCreate: autoCreate, duration: d})
}

type getClusterCredentialsWithIAMInput struct {
	DbName            *string `query:"DbName"`
	ClusterIdentifier *string `query:"ClusterIdentifier"`
	CustomDomainName  *string `query:"CustomDomainName"`
	DurationSeconds   *int    `query:"DurationSeconds"`
}

// getClusterCredentialsWithIAM maps the caller to a database user named
// after it: IAM:<user name> for an IAM user, IAMR:<role name> for a role
// session; the user is created when missing, as Redshift does.
func (s *Service) getClusterCredentialsWithIAM(ctx context.Context, req *dispatch.Request) (any, error) {
	var in getClusterCredentialsWithIAMInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := s.limiter.allow(req.Principal.ARN, req.Time); err != nil {
		return nil, err
	}
	p := req.Principal
	var dbUser string
	switch {
	case p.Kind == identity.KindUser:
		dbUser = prefixIAM + p.Name
	case p.Kind == identity.KindAssumedRole && p.Session != nil:
		dbUser = prefixIAMRole + p.Session.RoleName
	default:
		return nil, awserr.New("UnsupportedOperation", "GetClusterCredentialsWithIAM needs an IAM user or role session; the account root has no database identity.")
	}
	if len(dbUser) > maxRoleNameBytes {
		return nil, invalidParameter("The IAM identity name is too long for a database user name (PostgreSQL allows 63 bytes, including the " + dbUser[:strings.IndexByte(dbUser, ':')+1] + " prefix).")
	}
	dbName := deref(in.DbName)
	if dbName != "" {
		if msg := checkName("DbName", dbName, 64, false); msg != "" {
			return nil, invalidParameter(msg)
		}
	}
	d, err := durationParam(in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	cluster, err := s.resolveCluster(ctx, in.ClusterIdentifier, in.CustomDomainName)
	if err != nil {
		return nil, err
	}
	keys := map[string][]string{}
	if dbName != "" {
		keys["redshift:DbName"] = []string{dbName}
	}
	if in.DurationSeconds != nil {
		keys["redshift:DurationSeconds"] = []string{strconv.Itoa(*in.DurationSeconds)}
	}
	resource := s.resourceARN(req.Region, "dbname", cluster.Identifier+"/"+dbName)
	if dbName == "" {
		resource = s.resourceARN(req.Region, "dbname", cluster.Identifier+"/*")
	}
	if err := s.authz.Check(ctx, req, iam.Check{Action: "redshift:GetClusterCredentialsWithIAM", Resource: resource, Context: keys}); err != nil {
		return nil, err
	}
	return s.issue(ctx, req, issueRequest{cluster: cluster, dbUser: dbUser, loginBase: dbUser, dbName: dbName, autoCreate: true, duration: d})
}

// issue records the credential, creates the login in the database, and
// returns the result. The record is written first, so that a crash between
// the two leaves something for the reaper to clean up.
func (s *Service) issue(ctx context.Context, req *dispatch.Request, r issueRequest) (any, error) {
	suffix, err := randomSuffix(s.rand)
	if err != nil {
		return nil, err
	}
	password, err := newPassword(s.rand)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	expires := now.Add(r.duration).Truncate(time.Millisecond)
	login := loginName(r.loginBase, suffix)
	id := "cred-" + suffix
	rec := store.IssuedCredential{
		ID: id, Cluster: r.cluster.Identifier, LoginRole: login, DbUser: r.dbUser, DbName: r.dbName, Groups: r.groups,
		AutoCreate: r.autoCreate, Principal: req.Principal.ARN, RequestID: req.ID, CreatedAt: now, ExpiresAt: expires,
		// Written as active before the login exists: a crash between the
		// two leaves an active record without a role, which the reaper
		// closes at expiry (Revoke finds nothing to drop). One store write
		// per credential keeps issuance bound by the database, not the
		// store; a failed issue marks the record failed.
		State: StateActive, NextAttemptAt: expires,
	}
	start := s.now()
	if err := s.store.CreateCredential(ctx, rec); err != nil {
		return nil, fmt.Errorf("record credential: %w", err)
	}
	eng, err := s.engines.Engine(ctx, r.cluster)
	if err != nil {
		if s.observe != nil {
			s.observe(r.cluster.Identifier, s.now().Sub(start), err)
		}
		s.markFailed(ctx, id, err)
		return nil, unavailable(r.cluster.Identifier, err)
	}
	_, err = eng.Issue(ctx, engine.IssueRequest{
		LoginName: login, DbUser: r.dbUser, DbName: r.dbName, Groups: r.groups, AutoCreate: r.autoCreate,
		Password: engine.Secret(password), ValidUntil: expires,
		Comment: "dbiam credential " + id + " for " + req.Principal.ARN + " as " + r.dbUser + " (request " + req.ID + ")",
	})
	if s.observe != nil {
		s.observe(r.cluster.Identifier, s.now().Sub(start), err)
	}
	if err != nil {
		s.markFailed(ctx, id, err)
		return nil, engineError(r, err)
	}
	s.log.Info("credential issued", "request_id", req.ID, "credential", id, "cluster", r.cluster.Identifier,
		"login", login, "db_user", r.dbUser, "db_name", r.dbName, "groups", strings.Join(r.groups, ","), "expires", expires)
	return &clusterCredentialsResult{DbUser: login, DbPassword: password, Expiration: query.Timestamp(expires)}, nil
}

func (s *Service) markFailed(ctx context.Context, id string, cause error) {
	_, err := s.store.UpdateCredential(context.WithoutCancel(ctx), id, func(c store.IssuedCredential) (store.IssuedCredential, error) {
		c.State, c.LastError = StateFailed, truncate(cause.Error(), 500)
		c.NextAttemptAt = s.now().UTC() // let the reaper make sure nothing was left behind
		return c, nil
	})
	if err != nil {
		s.log.Error("mark credential failed", "credential", id, "error", err)
	}
}

// engineError turns the engine's refusals into errors that say what to fix.
func engineError(r issueRequest, err error) error {
	switch {
	case errors.Is(err, engine.ErrNoSuchUser):
		return invalidParameter(fmt.Sprintf("Database user %s does not exist on cluster %s; set AutoCreate to create it.", r.dbUser, r.cluster.Identifier))
	case errors.Is(err, engine.ErrNoSuchGroup):
		return invalidParameter(fmt.Sprintf("A group in DbGroups does not exist on cluster %s: %s.", r.cluster.Identifier, groupFromError(err)))
	case errors.Is(err, engine.ErrNoSuchDatabase):
		return invalidParameter(fmt.Sprintf("Database %s does not exist on cluster %s.", r.dbName, r.cluster.Identifier))
	case errors.Is(err, engine.ErrInvalidName):
		return invalidParameter("A database object name is not acceptable to PostgreSQL: " + err.Error())
	}
	return unavailable(r.cluster.Identifier, err)
}

func groupFromError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "group "); i >= 0 {
		return truncate(msg[i+len("group "):], 80)
	}
	return "see the dbiam log"
}

func unavailable(cluster string, err error) error {
	return &awserr.Error{Code: "ClusterUnavailable", Message: "Cluster " + cluster + " cannot issue credentials right now; try again later.", HTTPStatus: http.StatusServiceUnavailable, Cause: err}
}

// resolveCluster finds the cluster named by ClusterIdentifier. dbiam has no
// custom domains: a CustomDomainName fails fast so that drivers fall back
// to the cluster identifier.
func (s *Service) resolveCluster(ctx context.Context, id, domain *string) (store.Cluster, error) {
	switch {
	case domain != nil && *domain != "" && id != nil && *id != "":
		return store.Cluster{}, awserr.New(awserr.InvalidParameterCombination, "Specify ClusterIdentifier or CustomDomainName, not both.")
	case domain != nil && *domain != "":
		return store.Cluster{}, awserr.New(awserr.InvalidParameterValue, "To use get credentials, you must provide an active custom domain name.")
	case id == nil || *id == "":
		return store.Cluster{}, awserr.New(awserr.MissingParameter, "The request must contain the parameter ClusterIdentifier")
	}
	c, err := s.store.GetCluster(ctx, *id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Cluster{}, clusterNotFound(*id)
	}
	return c, err
}

func clusterNotFound(id string) error {
	return &awserr.Error{Code: "ClusterNotFound", Message: "Cluster " + truncate(id, 63) + " not found.", HTTPStatus: http.StatusNotFound}
}

func checkGroups(groups []string) ([]string, error) {
	seen := make(map[string]bool, len(groups))
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		if msg := checkName("DbGroup", g, 64, true); msg != "" {
			return nil, invalidParameter(msg)
		}
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	if len(out) > 50 {
		return nil, invalidParameter("DbGroups may list at most 50 groups.")
	}
	return out, nil
}

func durationParam(v *int) (time.Duration, error) {
	if v == nil {
		return DefaultDurationSeconds * time.Second, nil
	}
	if *v < MinDurationSeconds || *v > MaxDurationSeconds {
		return 0, invalidParameter(fmt.Sprintf("DurationSeconds must be between %d and %d seconds, got %d.", MinDurationSeconds, MaxDurationSeconds, *v))
	}
	return time.Duration(*v) * time.Second, nil
}

// newPassword returns a random 256-bit password (43 characters of the
// URL-safe base64 alphabet, so it survives every client's quoting).
func newPassword(rnd io.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// randomSuffix returns loginSuffixLen lower-case characters of [a-z2-7].
func randomSuffix(rnd io.Reader) (string, error) {
	var b [loginSuffixLen * 5 / 8]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("generate login suffix: %w", err)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])), nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "?")
}
