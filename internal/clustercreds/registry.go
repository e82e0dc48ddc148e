package clustercreds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/secret"
	"github.com/dbiam/dbiam/internal/store"
)

func errIsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// registerClusterInput is dbiam's extension action RegisterCluster
// (authorized by the IAM action dbiam:RegisterCluster on the cluster ARN).
type registerClusterInput struct {
	ClusterIdentifier string  `query:"ClusterIdentifier,required"`
	EndpointAddress   string  `query:"EndpointAddress,required"`
	EndpointPort      int     `query:"EndpointPort,required"`
	AdminURL          string  `query:"AdminUrl,required"`
	AdminPassword     *string `query:"AdminPassword"`
	DefaultDatabase   *string `query:"DefaultDatabase"`
}

type registerClusterResult struct {
	Cluster      clusterXML `xml:"Cluster"`
	Capabilities string     `xml:"Capabilities"`
}

func checkClusterID(id string) error {
	if msg := checkName("ClusterIdentifier", id, 63, true); msg != "" {
		return invalidParameter(msg)
	}
	if strings.Contains(id, "--") || strings.HasSuffix(id, "-") {
		return invalidParameter("ClusterIdentifier must not contain two consecutive hyphens or end with a hyphen.")
	}
	return nil
}

// checkAdminURL accepts postgres:// URLs without an inline password.
func checkAdminURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return invalidParameter("AdminUrl must be a postgres:// URL with a host.")
	}
	if _, has := u.User.Password(); has || u.Query().Has("password") {
		return invalidParameter("AdminUrl must not contain a password; pass it in AdminPassword.")
	}
	return nil
}

func (s *Service) registerCluster(ctx context.Context, req *dispatch.Request) (any, error) {
	var in registerClusterInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := checkClusterID(in.ClusterIdentifier); err != nil {
		return nil, err
	}
	if in.EndpointPort < 1 || in.EndpointPort > 65535 {
		return nil, invalidParameter("EndpointPort must be between 1 and 65535.")
	}
	if err := checkAdminURL(in.AdminURL); err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, req, "dbiam:RegisterCluster", s.resourceARN(req.Region, "cluster", in.ClusterIdentifier)); err != nil {
		return nil, err
	}
	c := store.Cluster{Identifier: in.ClusterIdentifier, Engine: config.EnginePostgres, Address: in.EndpointAddress, Port: in.EndpointPort,
		AdminURL: in.AdminURL, DefaultDatabase: deref(in.DefaultDatabase), Source: "api"}
	if c.DefaultDatabase == "" {
		c.DefaultDatabase = "postgres"
	}
	caps, err := s.register(ctx, c, secret.String(deref(in.AdminPassword)))
	if err != nil {
		return nil, err
	}
	stored, err := s.store.GetCluster(ctx, c.Identifier)
	if err != nil {
		return nil, err
	}
	return &registerClusterResult{Cluster: clusterToXML(stored), Capabilities: caps}, nil
}

// register verifies the cluster with its admin credentials, then stores it
// (creating or replacing) with the capability report.
func (s *Service) register(ctx context.Context, c store.Cluster, adminPassword secret.String) (string, error) {
	now := s.now().UTC()
	if adminPassword != "" {
		sealed, err := s.keyring.Seal([]byte(adminPassword.Reveal()), AdminPasswordAAD(c.Identifier))
		if err != nil {
			return "", fmt.Errorf("seal admin password: %w", err)
		}
		c.SealedAdminPassword = sealed
	}
	c.CreatedAt, c.UpdatedAt = now, now
	eng, err := s.engines.open(ctx, c, adminPassword)
	if err != nil {
		return "", awserr.New(awserr.InvalidParameterValue, "Cannot connect to cluster %s with the admin URL: %s", c.Identifier, truncate(err.Error(), 300))
	}
	caps, err := eng.Verify(ctx)
	_ = eng.Close()
	if err != nil {
		return "", awserr.New(awserr.InvalidParameterValue, "Cluster %s failed verification: %s", c.Identifier, truncate(err.Error(), 300))
	}
	report, err := json.Marshal(caps)
	if err != nil {
		return "", fmt.Errorf("encode capabilities: %w", err)
	}
	c.Capabilities = string(report)
	err = s.store.CreateCluster(ctx, c)
	if errors.Is(err, store.ErrAlreadyExists) {
		_, err = s.store.UpdateCluster(ctx, c.Identifier, func(old store.Cluster) (store.Cluster, error) {
			c.CreatedAt, c.Tags = old.CreatedAt, old.Tags
			return c, nil
		})
	}
	if err != nil {
		return "", fmt.Errorf("store cluster %s: %w", c.Identifier, err)
	}
	s.engines.Forget(c.Identifier)
	s.log.Info("cluster registered", "cluster", c.Identifier, "source", c.Source, "capabilities", c.Capabilities)
	return c.Capabilities, nil
}

func (s *Service) deregisterCluster(ctx context.Context, req *dispatch.Request) (any, error) {
	var in struct {
		ClusterIdentifier string `query:"ClusterIdentifier,required"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, req, "dbiam:DeregisterCluster", s.resourceARN(req.Region, "cluster", in.ClusterIdentifier)); err != nil {
		return nil, err
	}
	err := s.store.DeleteCluster(ctx, in.ClusterIdentifier)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, clusterNotFound(in.ClusterIdentifier)
	case errors.Is(err, store.ErrConflict):
		return nil, awserr.New("InvalidClusterState", "Cluster %s still has unexpired credentials; deregister it after they expire and are dropped.", in.ClusterIdentifier)
	case err != nil:
		return nil, err
	}
	s.engines.Forget(in.ClusterIdentifier)
	if s.forget != nil {
		s.forget(in.ClusterIdentifier)
	}
	return &struct{}{}, nil
}

// SyncConfigClusters registers the clusters of the config file (source
// "config"), verifying each. A cluster that cannot be verified is logged
// and skipped, so one unreachable database does not stop the server.
func (s *Service) SyncConfigClusters(ctx context.Context, clusters []config.Cluster) {
	for _, cc := range clusters {
		var pw secret.String
		if cc.AdminPasswordFile != "" {
			b, err := os.ReadFile(cc.AdminPasswordFile)
			if err != nil {
				s.log.Error("cluster admin password file unreadable; cluster skipped", "cluster", cc.Identifier, "error", err)
				continue
			}
			pw = secret.String(strings.TrimSpace(string(b)))
		}
		db := "postgres"
		if u, err := url.Parse(cc.AdminURL); err == nil && strings.Trim(u.Path, "/") != "" {
			db = strings.Trim(u.Path, "/")
		}
		c := store.Cluster{Identifier: cc.Identifier, Engine: cc.Engine, Address: cc.Endpoint.Address, Port: cc.Endpoint.Port,
			AdminURL: cc.AdminURL, DefaultDatabase: db, Source: "config"}
		if _, err := s.register(ctx, c, pw); err != nil {
			s.log.Error("cluster from the config could not be registered", "cluster", cc.Identifier, "error", err)
		}
	}
}
