package iam

import "sort"

// maxTagsPerResource is AWS's quota of tags on one user or SAML provider
// (roles have MaxTagsPerRole, the same number).
const maxTagsPerResource = 50

// Tag is an IAM tag on the wire (request lists and responses).
type Tag struct {
	Key   string `query:"Key,required" xml:"Key"`
	Value string `query:"Value" xml:"Value"`
}

func tagsToMap(tags []Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

func tagsFromMap(m map[string]string) []Tag {
	if len(m) == 0 {
		return nil
	}
	tags := make([]Tag, 0, len(m))
	for k, v := range m {
		tags = append(tags, Tag{Key: k, Value: v})
	}
	sortTags(tags)
	return tags
}

func sortTags(tags []Tag) {
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
}

// addTags adds tags to *current, replacing the values of keys it has. If
// that would leave more than max tags, *current stays as it was and the
// error is LimitExceeded for quota (such as "TagsPerUser").
func addTags(current *map[string]string, tags []Tag, quota string, max int) error {
	merged := make(map[string]string, len(*current)+len(tags))
	for k, v := range *current {
		merged[k] = v
	}
	for _, t := range tags {
		merged[t.Key] = t.Value
	}
	if len(merged) > max {
		return limitExceeded("Cannot exceed quota for %s: %d", quota, max)
	}
	*current = merged
	return nil
}

// removeTags deletes keys from tags; keys that are not there are ignored.
func removeTags(tags map[string]string, keys []string) {
	for _, k := range keys {
		delete(tags, k)
	}
}

// listPagedTagsResult is the result of the List*Tags actions that page.
type listPagedTagsResult struct {
	Tags        []Tag  `xml:"Tags>member"`
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

// tagPage returns the page of tags, sorted by key, that follows marker.
func tagPage(tags map[string]string, marker string, max int) *listPagedTagsResult {
	page, truncated, next := paginate(tagsFromMap(tags), func(t Tag) string { return t.Key }, marker, max)
	return &listPagedTagsResult{Tags: page, IsTruncated: truncated, Marker: next}
}
