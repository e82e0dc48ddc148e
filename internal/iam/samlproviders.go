package iam

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/store"
)

// SAML provider quotas and limits (AWS's).
const (
	MaxSAMLProvidersPerAccount = 100
	minSAMLMetadataLength      = 1000
	maxSAMLMetadataLength      = 10000000
	// samlDefaultValidity is how long a provider whose metadata has no
	// validUntil stays valid, counted from its creation (AWS: 100 years).
	samlDefaultValidity = 100
)

// samlProviderName checks a SAML provider name: 1..128 of [\w._-].
func (v *validation) samlProviderName(field, value string) {
	if value == "" || len(value) > 128 {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and 128", quoted(value), field)
		return
	}
	for i := 0; i < len(value); i++ {
		c := value[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w._-]+", quoted(value), field)
			return
		}
	}
}

// samlMetadataLength checks the length AWS's model allows for a metadata
// document. The value itself is never echoed.
func (v *validation) samlMetadataLength(field, value string) {
	if n := len(value); n < minSAMLMetadataLength {
		v.add("Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", field, minSAMLMetadataLength)
	} else if n > maxSAMLMetadataLength {
		v.add("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", field, maxSAMLMetadataLength)
	}
}

// parseSAMLMetadata validates an IdP metadata document with the SAML
// package's strict parser and returns when the provider stops being valid:
// the metadata's validUntil or, without one, 100 years after since (as in
// AWS). Unusable metadata is InvalidInput saying what is wrong.
func parseSAMLMetadata(doc string, since time.Time) (time.Time, error) {
	if !utf8.ValidString(doc) || strings.IndexByte(doc, 0) >= 0 {
		return time.Time{}, invalidInput("Could not parse metadata: the document is not valid UTF-8 text")
	}
	p, err := saml.ParseMetadata([]byte(doc))
	if err != nil {
		var se *saml.Error
		if errors.As(err, &se) && se.Detail != nil {
			// Detail is the SAML package's own text, never the document's.
			return time.Time{}, invalidInput("%s: %s", se.Message, se.Detail.Error())
		}
		return time.Time{}, invalidInput("Could not parse metadata")
	}
	if !p.ValidUntil.IsZero() {
		return p.ValidUntil.UTC(), nil
	}
	return since.UTC().AddDate(samlDefaultValidity, 0, 0), nil
}

func samlProviderNotFound(arn string) error {
	return noSuchEntity("Manifest not found for arn %s", quotedARN(arn))
}

// samlProviderError maps the store's answer about the provider arn names:
// the provider gone meanwhile is NoSuchEntity, other errors pass through.
func samlProviderError(err error, arn string) error {
	if errors.Is(err, store.ErrNotFound) {
		return samlProviderNotFound(arn)
	}
	return err
}

// parseSAMLProviderARN returns the name in a SAML provider ARN of this
// account; ok is false for any other ARN.
func (s *Service) parseSAMLProviderARN(arn string) (name string, ok bool) {
	prefix := "arn:aws:iam::" + s.account + ":saml-provider/"
	if !strings.HasPrefix(arn, prefix) {
		return "", false
	}
	name = arn[len(prefix):]
	var v validation
	v.samlProviderName("name", name)
	return name, v.err() == nil
}

// authorizedSAMLProvider loads the provider arn names and authorizes action
// on it; a missing provider is reported only to callers allowed to act on
// that ARN.
func (s *Service) authorizedSAMLProvider(ctx context.Context, req *dispatch.Request, action, arn string) (store.SAMLProvider, error) {
	var v validation
	v.arnLength("sAMLProviderArn", arn)
	if err := v.err(); err != nil {
		return store.SAMLProvider{}, err
	}
	p, err := store.SAMLProvider{}, error(store.ErrNotFound)
	if name, ok := s.parseSAMLProviderARN(arn); ok {
		p, err = s.store.GetSAMLProvider(ctx, name)
	}
	notFound := func() error { return samlProviderNotFound(arn) }
	if err := s.authorizeLookup(ctx, req, action, err, s.samlProviderARN(p.Name), arn, notFound); err != nil {
		return store.SAMLProvider{}, err
	}
	return p, nil
}

type createSAMLProviderInput struct {
	SAMLMetadataDocument string `query:"SAMLMetadataDocument,required"`
	Name                 string `query:"Name,required"`
	Tags                 []Tag  `query:"Tags,list"`
}

type createSAMLProviderResult struct {
	SAMLProviderArn string `xml:"SAMLProviderArn"`
	Tags            []Tag  `xml:"Tags>member,omitempty"`
}

func (s *Service) createSAMLProvider(ctx context.Context, req *dispatch.Request) (any, error) {
	var in createSAMLProviderInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	var v validation
	v.samlMetadataLength("sAMLMetadataDocument", in.SAMLMetadataDocument)
	v.samlProviderName("name", in.Name)
	v.tags(in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	arn := s.samlProviderARN(in.Name)
	if err := s.authz.Authorize(ctx, req, "iam:CreateSAMLProvider", arn); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	validUntil, err := parseSAMLMetadata(in.SAMLMetadataDocument, now)
	if err != nil {
		return nil, err
	}
	existing, err := s.store.ListSAMLProviders(ctx)
	if err != nil {
		return nil, err
	}
	if len(existing) >= MaxSAMLProvidersPerAccount {
		return nil, limitExceeded("Cannot exceed quota for SAMLProvidersPerAccount: %d", MaxSAMLProvidersPerAccount)
	}
	p := store.SAMLProvider{Name: in.Name, MetadataDocument: in.SAMLMetadataDocument, CreatedAt: now, ValidUntil: validUntil, Tags: tagsToMap(in.Tags)}
	if err := s.store.CreateSAMLProvider(ctx, p); errors.Is(err, store.ErrAlreadyExists) {
		return nil, entityAlreadyExists("Provider with name %s already exists.", in.Name)
	} else if err != nil {
		return nil, err
	}
	return &createSAMLProviderResult{SAMLProviderArn: arn, Tags: tagsFromMap(p.Tags)}, nil
}

type samlProviderARNInput struct {
	SAMLProviderArn string `query:"SAMLProviderArn,required"`
}

type getSAMLProviderResult struct {
	SAMLMetadataDocument string          `xml:"SAMLMetadataDocument"`
	CreateDate           query.Timestamp `xml:"CreateDate"`
	ValidUntil           query.Timestamp `xml:"ValidUntil"`
	Tags                 []Tag           `xml:"Tags>member,omitempty"`
}

func (s *Service) getSAMLProvider(ctx context.Context, req *dispatch.Request) (any, error) {
	var in samlProviderARNInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	p, err := s.authorizedSAMLProvider(ctx, req, "iam:GetSAMLProvider", in.SAMLProviderArn)
	if err != nil {
		return nil, err
	}
	return &getSAMLProviderResult{
		SAMLMetadataDocument: p.MetadataDocument, CreateDate: query.Timestamp(p.CreatedAt),
		ValidUntil: query.Timestamp(p.ValidUntil), Tags: tagsFromMap(p.Tags),
	}, nil
}

type samlProviderListEntryXML struct {
	Arn        string          `xml:"Arn"`
	ValidUntil query.Timestamp `xml:"ValidUntil"`
	CreateDate query.Timestamp `xml:"CreateDate"`
}

type listSAMLProvidersResult struct {
	SAMLProviderList []samlProviderListEntryXML `xml:"SAMLProviderList>member"`
}

func (s *Service) listSAMLProviders(ctx context.Context, req *dispatch.Request) (any, error) {
	var in struct{}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	// ListSAMLProviders supports no resource-level permissions.
	if err := s.authz.Authorize(ctx, req, "iam:ListSAMLProviders", "*"); err != nil {
		return nil, err
	}
	ps, err := s.store.ListSAMLProviders(ctx)
	if err != nil {
		return nil, err
	}
	entry := func(p store.SAMLProvider) samlProviderListEntryXML {
		return samlProviderListEntryXML{Arn: s.samlProviderARN(p.Name), ValidUntil: query.Timestamp(p.ValidUntil), CreateDate: query.Timestamp(p.CreatedAt)}
	}
	return &listSAMLProvidersResult{SAMLProviderList: mapEach(ps, entry)}, nil
}

type updateSAMLProviderInput struct {
	SAMLMetadataDocument string `query:"SAMLMetadataDocument,required"`
	SAMLProviderArn      string `query:"SAMLProviderArn,required"`
}

type updateSAMLProviderResult struct {
	SAMLProviderArn string `xml:"SAMLProviderArn"`
}

func (s *Service) updateSAMLProvider(ctx context.Context, req *dispatch.Request) (any, error) {
	var in updateSAMLProviderInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	var v validation
	v.samlMetadataLength("sAMLMetadataDocument", in.SAMLMetadataDocument)
	if err := v.err(); err != nil {
		return nil, err
	}
	p, err := s.authorizedSAMLProvider(ctx, req, "iam:UpdateSAMLProvider", in.SAMLProviderArn)
	if err != nil {
		return nil, err
	}
	validUntil, err := parseSAMLMetadata(in.SAMLMetadataDocument, p.CreatedAt)
	if err != nil {
		return nil, err
	}
	_, err = s.store.UpdateSAMLProvider(ctx, p.Name, func(p store.SAMLProvider) (store.SAMLProvider, error) {
		p.MetadataDocument, p.ValidUntil = in.SAMLMetadataDocument, validUntil
		return p, nil
	})
	if err != nil {
		return nil, samlProviderError(err, in.SAMLProviderArn)
	}
	return &updateSAMLProviderResult{SAMLProviderArn: s.samlProviderARN(p.Name)}, nil
}

func (s *Service) deleteSAMLProvider(ctx context.Context, req *dispatch.Request) (any, error) {
	var in samlProviderARNInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	p, err := s.authorizedSAMLProvider(ctx, req, "iam:DeleteSAMLProvider", in.SAMLProviderArn)
	if err != nil {
		return nil, err
	}
	return nil, samlProviderError(s.store.DeleteSAMLProvider(ctx, p.Name), in.SAMLProviderArn)
}

type tagSAMLProviderInput struct {
	SAMLProviderArn string `query:"SAMLProviderArn,required"`
	Tags            []Tag  `query:"Tags,list,required"`
}

func (s *Service) tagSAMLProvider(ctx context.Context, req *dispatch.Request) (any, error) {
	var in tagSAMLProviderInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	p, err := s.authorizedSAMLProvider(ctx, req, "iam:TagSAMLProvider", in.SAMLProviderArn)
	if err != nil {
		return nil, err
	}
	_, err = s.store.UpdateSAMLProvider(ctx, p.Name, func(p store.SAMLProvider) (store.SAMLProvider, error) {
		err := addTags(&p.Tags, in.Tags, "TagsPerSAMLProvider", maxTagsPerResource)
		return p, err
	})
	return nil, samlProviderError(err, in.SAMLProviderArn)
}

type untagSAMLProviderInput struct {
	SAMLProviderArn string   `query:"SAMLProviderArn,required"`
	TagKeys         []string `query:"TagKeys,list,required"`
}

func (s *Service) untagSAMLProvider(ctx context.Context, req *dispatch.Request) (any, error) {
	var in untagSAMLProviderInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	p, err := s.authorizedSAMLProvider(ctx, req, "iam:UntagSAMLProvider", in.SAMLProviderArn)
	if err != nil {
		return nil, err
	}
	_, err = s.store.UpdateSAMLProvider(ctx, p.Name, func(p store.SAMLProvider) (store.SAMLProvider, error) {
		removeTags(p.Tags, in.TagKeys)
		return p, nil
	})
	return nil, samlProviderError(err, in.SAMLProviderArn)
}

type listSAMLProviderTagsInput struct {
	SAMLProviderArn string  `query:"SAMLProviderArn,required"`
	Marker          *string `query:"Marker"`
	MaxItems        *int    `query:"MaxItems"`
}

func (s *Service) listSAMLProviderTags(ctx context.Context, req *dispatch.Request) (any, error) {
	var in listSAMLProviderTagsInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems)
	if err != nil {
		return nil, err
	}
	p, err := s.authorizedSAMLProvider(ctx, req, "iam:ListSAMLProviderTags", in.SAMLProviderArn)
	if err != nil {
		return nil, err
	}
	return tagPage(p.Tags, deref(in.Marker), max), nil
}
