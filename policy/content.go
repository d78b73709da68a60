package policy

import (
	"fmt"
	"strings"
)

// Content is what the first bytes of a file show it holds, as the audit reads them for the paths
// a rule with a content condition names (Settings.Sniff). The audit attaches it to the file's
// entry; checks never read files.
type Content uint8

// What a sniffed file holds. ContentUnread is every file that was not sniffed, or could not be
// read: a rule with a content condition never applies to it, so an unreadable secret stays one.
const (
	ContentUnread Content = iota
	// ContentSQLDump is SQL that a dump tool wrote (its header says which): a database's data.
	ContentSQLDump
	// ContentSQLData is SQL with more rows of data than a schema seeds.
	ContentSQLData
	// ContentSQLSchema is SQL without data: a schema or a migration, and at most the few rows of
	// data a schema seeds.
	ContentSQLSchema
	// ContentPHPIncludeOnly is PHP that holds nothing but an opening tag, comments and include or
	// require statements of literal paths (Debian's wp-config.php): the secret is where it points.
	ContentPHPIncludeOnly
	// ContentPHPCode is any other PHP, or text that is not PHP at all.
	ContentPHPCode
	// ContentHtaccessDenyOnly is an .htaccess that holds nothing but restrictions (Require all
	// denied, Deny from all, php_flag engine off, Options -Indexes), as a packaged application
	// puts in the directories its web server writes.
	ContentHtaccessDenyOnly
	// ContentHtaccessOther is any other .htaccess: one that grants, rewrites, maps handlers, or
	// holds anything the reader does not know.
	ContentHtaccessOther
)

var contentNames = [...]string{
	ContentUnread: "unread", ContentSQLDump: "sql-dump", ContentSQLData: "sql-data",
	ContentSQLSchema: "sql-schema", ContentPHPIncludeOnly: "php-include-only", ContentPHPCode: "php-code",
	ContentHtaccessDenyOnly: "htaccess-deny-only", ContentHtaccessOther: "htaccess-other",
}

func (c Content) String() string {
	if int(c) < len(contentNames) {
		return contentNames[c]
	}
	return fmt.Sprintf("content(%d)", c)
}

// Sniff is a set of the readers the audit runs on a file's first bytes.
type Sniff uint8

// The content readers.
const (
	// SniffSQL tells SQL with data from a schema.
	SniffSQL Sniff = 1 << iota
	// SniffPHPInclude tells PHP that only includes other files from any other.
	SniffPHPInclude
	// SniffHtaccess tells an .htaccess that only denies from any other. The audit runs it on
	// every .htaccess, whatever the policy's rules.
	SniffHtaccess
)

// conditions are the values a rule's content: may take: each is what a reader says when a file
// does not hold what its name suggests. Only these may be conditions: a rule that applied when a
// file holds a secret would not apply to one that cannot be read, and a secret would go unseen.
var conditions = []struct {
	content Content
	sniff   Sniff
}{
	{ContentSQLSchema, SniffSQL},
	{ContentPHPIncludeOnly, SniffPHPInclude},
}

// ParseCondition reads a rule's content condition: sql-schema or php-include-only.
func ParseCondition(s string) (Content, error) {
	names := make([]string, len(conditions))
	for i, c := range conditions {
		if s == c.content.String() {
			return c.content, nil
		}
		names[i] = c.content.String()
	}
	return ContentUnread, fmt.Errorf("unknown content %q (want %s)", s, strings.Join(names, " or "))
}

// sniffFor returns the reader that tells whether a file holds c.
func sniffFor(c Content) Sniff {
	for _, cond := range conditions {
		if cond.content == c {
			return cond.sniff
		}
	}
	return 0
}
