package outlook

import "github.com/graphhook/graphhook/internal/store"

// listProps are the stored properties that folder and attachment listings filter and
// order by in the store (see listQuery.pushDown); properties a view computes (a
// folder's counts, an attachment's size) are not among them, so a $filter or
// $orderby on them is evaluated in memory over the rendered documents, as before.
var listProps = map[string][]store.Prop{
	kindMailFolder: {
		{Path: "displayName"}, {Path: "parentFolderId"}, {Path: "isHidden", Type: store.PropBool},
	},
	kindContactFolder: {
		{Path: "displayName"}, {Path: "parentFolderId"},
	},
	kindAttachment: {
		{Path: "name"}, {Path: "contentType"}, {Path: "contentId"}, {Path: "contentLocation"},
		{Path: "isInline", Type: store.PropBool},
		{Path: "lastModifiedDateTime", Type: store.PropTime, Layout: timeLayout},
	},
}
