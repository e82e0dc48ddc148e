package iam

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/policy"
	"github.com/dbiam/dbiam/internal/store"
)

// contextEntry is one ContextEntries member of a simulation request.
type contextEntry struct {
	ContextKeyName   string   `query:"ContextKeyName"`
	ContextKeyValues []string `query:"ContextKeyValues,list"`
	ContextKeyType   string   `query:"ContextKeyType"`
}

type simulateCustomPolicyInput struct {
	PolicyInputList                    []string       `query:"PolicyInputList,list,required"`
	PermissionsBoundaryPolicyInputList []string       `query:"PermissionsBoundaryPolicyInputList,list"`
	ActionNames                        []string       `query:"ActionNames,list,required"`
	ResourceArns                       []string       `query:"ResourceArns,list"`
	ResourcePolicy                     *string        `query:"ResourcePolicy"`
	ResourceOwner                      *string        `query:"ResourceOwner"`
	CallerArn                          *string        `query:"CallerArn"`
	ContextEntries                     []contextEntry `query:"ContextEntries,list"`
	ResourceHandlingOption             *string        `query:"ResourceHandlingOption"`
	MaxItems                           *int           `query:"MaxItems"`
	Marker                             *string        `query:"Marker"`
}

type simulatePrincipalPolicyInput struct {
	PolicySourceArn                    string         `query:"PolicySourceArn,required"`
	PolicyInputList                    []string       `query:"PolicyInputList,list"`
	PermissionsBoundaryPolicyInputList []string       `query:"PermissionsBoundaryPolicyInputList,list"`
	ActionNames                        []string       `query:"ActionNames,list,required"`
	ResourceArns                       []string       `query:"ResourceArns,list"`
	ResourcePolicy                     *string        `query:"ResourcePolicy"`
	ResourceOwner                      *string        `query:"ResourceOwner"`
	CallerArn                          *string        `query:"CallerArn"`
	ContextEntries                     []contextEntry `query:"ContextEntries,list"`
	ResourceHandlingOption             *string        `query:"ResourceHandlingOption"`
	MaxItems                           *int           `query:"MaxItems"`
	Marker                             *string        `query:"Marker"`
}

type matchedStatementXML struct {
	SourcePolicyID   string `xml:"SourcePolicyId"`
	SourcePolicyType string `xml:"SourcePolicyType"`
}

type evaluationResultXML struct {
	EvalActionName                    string                `xml:"EvalActionName"`
	EvalResourceName                  string                `xml:"EvalResourceName"`
	EvalDecision                      string                `xml:"EvalDecision"`
	MatchedStatements                 []matchedStatementXML `xml:"MatchedStatements>member"`
	MissingContextValues              []string              `xml:"MissingContextValues>member"`
	PermissionsBoundaryDecisionDetail *boundaryDetailXML    `xml:"PermissionsBoundaryDecisionDetail,omitempty"`
}

type boundaryDetailXML struct {
	AllowedByPermissionsBoundary bool `xml:"AllowedByPermissionsBoundary"`
}

type simulateResult struct {
	EvaluationResults []evaluationResultXML `xml:"EvaluationResults>member"`
	IsTruncated       bool                  `xml:"IsTruncated"`
	Marker            string                `xml:"Marker,omitempty"`
}

// simulationPolicy is a parsed policy with the id and type the simulator
// reports for its statements.
type simulationPolicy struct {
	named      *policy.NamedPolicy
	sourceType string
}

func (s *Service) simulateCustomPolicy(ctx context.Context, req *dispatch.Request) (any, error) {
	var in simulateCustomPolicyInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, req, "iam:SimulateCustomPolicy", "*"); err != nil {
		return nil, err
	}
	identityPolicies, err := parseInputList("PolicyInputList", in.PolicyInputList, policy.Identity)
	if err != nil {
		return nil, err
	}
	boundaries, err := parseInputList("PermissionsBoundaryPolicyInputList", in.PermissionsBoundaryPolicyInputList, policy.Boundary)
	if err != nil {
		return nil, err
	}
	return simulate(simulation{
		identity: identityPolicies, boundaries: boundaries, actions: in.ActionNames, resources: in.ResourceArns,
		resourcePolicy: in.ResourcePolicy, entries: in.ContextEntries, maxItems: in.MaxItems, marker: in.Marker,
	})
}

func (s *Service) simulatePrincipalPolicy(ctx context.Context, req *dispatch.Request) (any, error) {
	var in simulatePrincipalPolicyInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	kind, name, err := s.principalFromARN(in.PolicySourceArn)
	if err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, req, "iam:SimulatePrincipalPolicy", in.PolicySourceArn); err != nil {
		return nil, err
	}
	effective, err := s.store.EffectivePolicies(ctx, kind, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchEntity("The %s with name %s cannot be found.", kind, name)
	}
	if err != nil {
		return nil, err
	}
	var identityPolicies []simulationPolicy
	for _, e := range effective {
		pol, err := policy.ParseKind([]byte(e.Document), policy.Identity)
		if err != nil {
			return nil, fmt.Errorf("stored policy %s does not parse: %w", e.Source, err)
		}
		id, typ := e.PolicyName, string(e.Kind)
		if e.Managed {
			id, typ = s.policyARN("/", e.PolicyName), "user-managed"
			if mp, err := s.store.GetManagedPolicy(ctx, e.PolicyName); err == nil {
				id = s.policyARN(mp.Path, mp.Name)
			}
		}
		identityPolicies = append(identityPolicies, simulationPolicy{named: &policy.NamedPolicy{Name: id, Policy: pol}, sourceType: typ})
	}
	extra, err := parseInputList("PolicyInputList", in.PolicyInputList, policy.Identity)
	if err != nil {
		return nil, err
	}
	boundaries, err := parseInputList("PermissionsBoundaryPolicyInputList", in.PermissionsBoundaryPolicyInputList, policy.Boundary)
	if err != nil {
		return nil, err
	}
	return simulate(simulation{
		identity: append(identityPolicies, extra...), boundaries: boundaries, actions: in.ActionNames, resources: in.ResourceArns,
		resourcePolicy: in.ResourcePolicy, entries: in.ContextEntries, maxItems: in.MaxItems, marker: in.Marker,
	})
}

// principalFromARN accepts a user, group or role ARN of this account.
func (s *Service) principalFromARN(a string) (store.PrincipalKind, string, error) {
	prefix := "arn:aws:iam::" + s.account + ":"
	rest, ok := strings.CutPrefix(a, prefix)
	if ok {
		for _, kind := range []store.PrincipalKind{store.KindUser, store.KindGroup, store.KindRole} {
			if p, ok := strings.CutPrefix(rest, string(kind)+"/"); ok && p != "" {
				return kind, p[strings.LastIndexByte(p, '/')+1:], nil
			}
		}
	}
	return "", "", invalidInput("Invalid ARN: %s. PolicySourceArn must be the ARN of a user, group or role of account %s.", quoted(a), s.account)
}

func parseInputList(param string, docs []string, kind policy.PolicyKind) ([]simulationPolicy, error) {
	out := make([]simulationPolicy, 0, len(docs))
	for i, doc := range docs {
		pol, err := policy.ParseWithOptions([]byte(doc), policy.ParseOptions{Kind: kind, MaxSize: -1})
		if err != nil {
			var pe *policy.ParseError
			if errors.As(err, &pe) {
				return nil, malformedPolicy("%s.%d: %s", param, i+1, pe.Error())
			}
			return nil, malformedPolicy("%s.%d: the policy document is malformed", param, i+1)
		}
		out = append(out, simulationPolicy{named: &policy.NamedPolicy{Name: param + "." + strconv.Itoa(i+1), Policy: pol}, sourceType: "IAM Policy"})
	}
	return out, nil
}

type simulation struct {
	identity, boundaries []simulationPolicy
	actions, resources   []string
	resourcePolicy       *string
	entries              []contextEntry
	maxItems             *int
	marker               *string
}

func simulate(sim simulation) (any, error) {
	max, err := maxItems(sim.maxItems)
	if err != nil {
		return nil, err
	}
	start := 0
	if sim.marker != nil {
		start, err = strconv.Atoi(*sim.marker)
		if err != nil || start < 0 {
			return nil, invalidInput("Invalid Marker.")
		}
	}
	var c policy.Context
	for _, e := range sim.entries {
		if e.ContextKeyName == "" {
			return nil, awserr.New(awserr.ValidationError, "1 validation error detected: Value at 'contextEntries.member.contextKeyName' failed to satisfy constraint: Member must not be null")
		}
		c.Add(e.ContextKeyName, e.ContextKeyValues...)
	}
	var set policy.PolicySet
	types := map[string]string{}
	for _, p := range sim.identity {
		set.Identity = append(set.Identity, p.named)
		types[p.named.Name] = p.sourceType
	}
	for _, p := range sim.boundaries {
		set.Boundaries = append(set.Boundaries, p.named)
		types[p.named.Name] = p.sourceType
	}
	if sim.resourcePolicy != nil {
		pol, err := policy.ParseKind([]byte(*sim.resourcePolicy), policy.Resource)
		if err != nil {
			var pe *policy.ParseError
			if errors.As(err, &pe) {
				return nil, malformedPolicy("ResourcePolicy: %s", pe.Error())
			}
			return nil, err
		}
		set.Resource = append(set.Resource, &policy.NamedPolicy{Name: "ResourcePolicy", Policy: pol})
		types["ResourcePolicy"] = "resource"
	}
	resources := sim.resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var all []evaluationResultXML
	for _, action := range sim.actions {
		for _, resource := range resources {
			d := policy.Evaluate(&policy.Request{Action: action, Resource: resource, Context: c}, set)
			r := evaluationResultXML{EvalActionName: action, EvalResourceName: resource, EvalDecision: d.Effect.String(), MissingContextValues: d.MissingContextKeys}
			for _, m := range d.Matched {
				r.MatchedStatements = append(r.MatchedStatements, matchedStatementXML{SourcePolicyID: m.Policy, SourcePolicyType: types[m.Policy]})
			}
			if len(set.Boundaries) > 0 {
				bd := policy.Evaluate(&policy.Request{Action: action, Resource: resource, Context: c}, policy.PolicySet{Identity: set.Boundaries})
				r.PermissionsBoundaryDecisionDetail = &boundaryDetailXML{AllowedByPermissionsBoundary: bd.Effect == policy.Allowed}
			}
			all = append(all, r)
		}
	}
	res := &simulateResult{}
	if start > len(all) {
		start = len(all)
	}
	end := min(start+max, len(all))
	res.EvaluationResults = all[start:end]
	if end < len(all) {
		res.IsTruncated, res.Marker = true, strconv.Itoa(end)
	}
	return res, nil
}
