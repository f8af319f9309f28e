// Package graph holds graphhook's wire vocabulary: the JSON shapes that cross the
// wire (subscription, changeNotification, the OData error envelope), the error codes
// clients branch on, and the time format Graph uses. It imports no package of ours, so
// every other package can speak it.
package graph
