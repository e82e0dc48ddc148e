package iam_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/dbiam/dbiam/internal/testutil/awstest"
)

// selfSignedCert returns a fresh self-signed certificate (DER, base64) for an
// IdP's signing key.
func selfSignedCert(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "idp.example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// idpMetadata builds SAML 2.0 IdP metadata. keyDescriptor is the
// md:KeyDescriptor element ("" for none); validUntil is the attribute value
// ("" for none). The document is padded with NameIDFormat elements to AWS's
// minimum length of 1000 characters.
func idpMetadata(t *testing.T, entityID, keyDescriptor, validUntil string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `"`)
	if validUntil != "" {
		b.WriteString(` validUntil="` + validUntil + `"`)
	}
	b.WriteString(">\n")
	b.WriteString(`  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + "\n")
	b.WriteString(keyDescriptor)
	for _, f := range []string{"emailAddress", "unspecified", "persistent", "transient"} {
		b.WriteString(`    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:` + f + "</md:NameIDFormat>\n")
	}
	b.WriteString(`    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso/redirect"/>` + "\n")
	b.WriteString(`    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/post"/>` + "\n")
	b.WriteString("  </md:IDPSSODescriptor>\n</md:EntityDescriptor>\n")
	doc := b.String()
	for len(doc) < 1000 {
		doc = strings.Replace(doc, "  </md:IDPSSODescriptor>", `    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:entity</md:NameIDFormat>`+"\n  </md:IDPSSODescriptor>", 1)
	}
	return doc
}

func signingKey(certB64 string) string {
	return `    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` + certB64 + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
`
}

func TestSAMLProviderCRUD(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	meta := idpMetadata(t, "https://idp.example.com/metadata", signingKey(selfSignedCert(t)), "")

	created, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{
		Name: aws.String("Okta"), SAMLMetadataDocument: aws.String(meta),
		Tags: []types.Tag{{Key: aws.String("idp"), Value: aws.String("okta")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.SAMLProviderArn)
	if arn != testAcctARN+"saml-provider/Okta" || len(created.Tags) != 1 {
		t.Fatalf("created %+v", created)
	}

	got, err := root.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.SAMLMetadataDocument) != meta || got.CreateDate == nil || got.ValidUntil == nil || len(got.Tags) != 1 {
		t.Fatalf("got %+v", got)
	}
	// Without validUntil in the metadata, the provider is valid for 100 years.
	if y := got.ValidUntil.Year() - got.CreateDate.Year(); y != 100 {
		t.Errorf("ValidUntil %v, CreateDate %v", got.ValidUntil, got.CreateDate)
	}

	_, err = root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("okta"), SAMLMetadataDocument: aws.String(meta)})
	wantCodeMessage(t, err, "EntityAlreadyExists", "Provider with name okta already exists.")

	// A second provider whose metadata carries validUntil.
	until := "2035-06-30T12:00:00Z"
	meta2 := idpMetadata(t, "https://adfs.example.com/adfs/services/trust", signingKey(selfSignedCert(t)), until)
	if _, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("ADFS"), SAMLMetadataDocument: aws.String(meta2)}); err != nil {
		t.Fatal(err)
	}
	list, err := root.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, p := range list.SAMLProviderList {
		arns = append(arns, aws.ToString(p.Arn))
		if p.CreateDate == nil || p.ValidUntil == nil {
			t.Errorf("listed %+v", p)
		}
		if aws.ToString(p.Arn) == testAcctARN+"saml-provider/ADFS" && p.ValidUntil.UTC().Format(time.RFC3339) != until {
			t.Errorf("ADFS ValidUntil %v, want %s", p.ValidUntil, until)
		}
	}
	if strings.Join(arns, ",") != testAcctARN+"saml-provider/ADFS,"+testAcctARN+"saml-provider/Okta" {
		t.Errorf("providers %v", arns)
	}

	// Update: new metadata (new certificate, with validUntil).
	meta3 := idpMetadata(t, "https://idp.example.com/metadata", signingKey(selfSignedCert(t)), until)
	up, err := root.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), SAMLMetadataDocument: aws.String(meta3)})
	if err != nil || aws.ToString(up.SAMLProviderArn) != arn {
		t.Fatalf("update %+v %v", up, err)
	}
	got, err = root.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
	if err != nil || aws.ToString(got.SAMLMetadataDocument) != meta3 || got.ValidUntil.UTC().Format(time.RFC3339) != until {
		t.Fatalf("after update %+v %v", got, err)
	}
	// A rejected update changes nothing.
	_, err = root.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), SAMLMetadataDocument: aws.String(idpMetadata(t, "https://idp.example.com/metadata", "", ""))})
	wantCode(t, err, "InvalidInput")
	got, err = root.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
	if err != nil || aws.ToString(got.SAMLMetadataDocument) != meta3 {
		t.Fatalf("after a rejected update %+v %v", got, err)
	}

	// Tags.
	if _, err := root.TagSAMLProvider(ctx, &iam.TagSAMLProviderInput{SAMLProviderArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.UntagSAMLProvider(ctx, &iam.UntagSAMLProviderInput{SAMLProviderArn: aws.String(arn), TagKeys: []string{"idp"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := root.ListSAMLProviderTags(ctx, &iam.ListSAMLProviderTagsInput{SAMLProviderArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Fatalf("tags %+v %v", tags, err)
	}

	if _, err := root.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	errCases := []struct {
		name    string
		call    func() error
		code    string
		message string
	}{
		{"get deleted", func() error {
			_, err := root.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
			return err
		}, "NoSuchEntity", arn},
		{"delete deleted", func() error {
			_, err := root.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
			return err
		}, "NoSuchEntity", ""},
		{"update deleted", func() error {
			_, err := root.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), SAMLMetadataDocument: aws.String(meta)})
			return err
		}, "NoSuchEntity", ""},
		{"other account", func() error {
			_, err := root.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String("arn:aws:iam::210987654321:saml-provider/ADFS")})
			return err
		}, "NoSuchEntity", ""},
		{"ARN too short", func() error {
			_, err := root.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String("ADFS")})
			return err
		}, "ValidationError", "sAMLProviderArn"},
		{"illegal name", func() error {
			_, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("my idp"), SAMLMetadataDocument: aws.String(meta)})
			return err
		}, "ValidationError", "[\\w._-]+"},
		{"name too long", func() error {
			_, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(strings.Repeat("n", 129)), SAMLMetadataDocument: aws.String(meta)})
			return err
		}, "ValidationError", "length between 1 and 128"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) { wantCodeMessage(t, tc.call(), tc.code, tc.message) })
	}

	// A user without permission is refused, and cannot probe for names.
	carol := userWithKey(t, srv, "carol", nil)
	_, err = carol.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	wantCodeMessage(t, err, "AccessDenied", "iam:ListSAMLProviders on resource: *")
	_, err = carol.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
	wantCodeMessage(t, err, "AccessDenied", "iam:GetSAMLProvider on resource: "+arn)
}

func TestSAMLProviderRejectsInvalidMetadata(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	cert := selfSignedCert(t)
	valid := idpMetadata(t, "https://idp.example.com/metadata", signingKey(cert), "")

	cases := []struct {
		name, doc, code, message string
	}{
		{"garbage", strings.Repeat("not xml at all ", 100), "InvalidInput", "Could not parse metadata"},
		{"no signing certificate", idpMetadata(t, "https://idp.example.com/metadata", "", ""), "InvalidInput", "no signing certificate"},
		{"encryption key only", idpMetadata(t, "https://idp.example.com/metadata", strings.Replace(signingKey(cert), `use="signing"`, `use="encryption"`, 1), ""), "InvalidInput", "no signing certificate"},
		{"certificate does not parse", idpMetadata(t, "https://idp.example.com/metadata", signingKey(base64.StdEncoding.EncodeToString([]byte("not a certificate"))), ""), "InvalidInput", "X509Certificate"},
		{"DOCTYPE", strings.Replace(valid, "\n", "\n<!DOCTYPE md:EntityDescriptor [<!ENTITY x \"y\">]>\n", 1), "InvalidInput", "DOCTYPE"},
		{"not an EntityDescriptor", strings.ReplaceAll(valid, "md:EntityDescriptor", "md:Something"), "InvalidInput", "neither md:EntityDescriptor nor md:EntitiesDescriptor"},
		{"truncated", valid[:len(valid)-30] + strings.Repeat(" ", 30), "InvalidInput", "Could not parse metadata"},
		{"too short", `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`, "ValidationError", "greater than or equal to 1000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("IdP"), SAMLMetadataDocument: aws.String(tc.doc)})
			wantCodeMessage(t, err, tc.code, tc.message)
		})
	}
	// Nothing was stored by the failures.
	list, err := root.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	if err != nil || len(list.SAMLProviderList) != 0 {
		t.Fatalf("providers after rejected creates: %+v %v", list, err)
	}
	// And the valid document is accepted under that name.
	if _, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("IdP"), SAMLMetadataDocument: aws.String(valid)}); err != nil {
		t.Fatal(err)
	}
}
