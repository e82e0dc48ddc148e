package clustercreds

import (
	"context"
	"net/http"
	"sort"
	"strconv"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/store"
)

type describeClustersInput struct {
	ClusterIdentifier *string  `query:"ClusterIdentifier"`
	MaxRecords        *int     `query:"MaxRecords"`
	Marker            *string  `query:"Marker"`
	TagKeys           []string `query:"TagKeys,list=TagKey"`
	TagValues         []string `query:"TagValues,list=TagValue"`
}

type endpointXML struct {
	Address string `xml:"Address"`
	Port    int    `xml:"Port"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type clusterXML struct {
	ClusterIdentifier string          `xml:"ClusterIdentifier"`
	ClusterStatus     string          `xml:"ClusterStatus"`
	DBName            string          `xml:"DBName"`
	Endpoint          endpointXML     `xml:"Endpoint"`
	ClusterCreateTime query.Timestamp `xml:"ClusterCreateTime"`
	Tags              []tagXML        `xml:"Tags>Tag,omitempty"`
}

type describeClustersResult struct {
	Clusters []clusterXML `xml:"Clusters>Cluster"`
	Marker   string       `xml:"Marker,omitempty"`
}

func clusterToXML(c store.Cluster) clusterXML {
	x := clusterXML{ClusterIdentifier: c.Identifier, ClusterStatus: "available", DBName: c.DefaultDatabase,
		Endpoint: endpointXML{Address: c.Address, Port: c.Port}, ClusterCreateTime: query.Timestamp(c.CreatedAt)}
	keys := make([]string, 0, len(c.Tags))
	for k := range c.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		x.Tags = append(x.Tags, tagXML{Key: k, Value: c.Tags[k]})
	}
	return x
}

func (s *Service) describeClusters(ctx context.Context, req *dispatch.Request) (any, error) {
	var in describeClustersInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	max := 100
	if in.MaxRecords != nil {
		if *in.MaxRecords < 20 || *in.MaxRecords > 100 {
			return nil, invalidParameter("MaxRecords must be between 20 and 100, got " + strconv.Itoa(*in.MaxRecords) + ".")
		}
		max = *in.MaxRecords
	}
	if in.ClusterIdentifier != nil && *in.ClusterIdentifier != "" {
		c, err := s.store.GetCluster(ctx, *in.ClusterIdentifier)
		if err != nil {
			if errIsNotFound(err) {
				return nil, clusterNotFound(*in.ClusterIdentifier)
			}
			return nil, err
		}
		if err := s.authz.Authorize(ctx, req, "redshift:DescribeClusters", s.resourceARN(req.Region, "cluster", c.Identifier)); err != nil {
			return nil, err
		}
		return &describeClustersResult{Clusters: []clusterXML{clusterToXML(c)}}, nil
	}
	if err := s.authz.Authorize(ctx, req, "redshift:DescribeClusters", s.resourceARN(req.Region, "cluster", "*")); err != nil {
		return nil, err
	}
	page, next, err := s.store.ListClusters(ctx, store.Page{Marker: deref(in.Marker), MaxItems: max})
	if err != nil {
		return nil, err
	}
	res := &describeClustersResult{Clusters: []clusterXML{}, Marker: next}
	for _, c := range page {
		if matchesTags(c, in.TagKeys, in.TagValues) {
			res.Clusters = append(res.Clusters, clusterToXML(c))
		}
	}
	return res, nil
}

func matchesTags(c store.Cluster, keys, values []string) bool {
	for _, k := range keys {
		if _, ok := c.Tags[k]; !ok {
			return false
		}
	}
	if len(values) == 0 {
		return true
	}
	for _, v := range c.Tags {
		for _, want := range values {
			if v == want {
				return true
			}
		}
	}
	return false
}

// describeCustomDomainAssociations answers fast that there is none: dbiam
// has no custom domains, and the Redshift drivers probe this for every host
// that is not *.redshift.amazonaws.com, falling back to the cluster id.
func (s *Service) describeCustomDomainAssociations(ctx context.Context, req *dispatch.Request) (any, error) {
	var in struct {
		CustomDomainName           *string `query:"CustomDomainName"`
		CustomDomainCertificateArn *string `query:"CustomDomainCertificateArn"`
		MaxRecords                 *int    `query:"MaxRecords"`
		Marker                     *string `query:"Marker"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, req, "redshift:DescribeCustomDomainAssociations", "*"); err != nil {
		return nil, err
	}
	return nil, &awserr.Error{Code: "CustomDomainAssociationNotFoundFault", Message: "Custom domain association not found: dbiam has no custom domains; use the cluster identifier.", HTTPStatus: http.StatusNotFound}
}
