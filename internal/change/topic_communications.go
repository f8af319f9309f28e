package change

// Topic keys of the cloud communications resources added after Graph's first
// edition of change notifications: presence, meeting call events, transcripts and
// recordings. They live in their own file so that workloads adding topics in
// parallel do not edit the same lines; the spelling rules of topic.go hold here too.

// Presences is the topic of every user's presence in a tenant (the
// communications/presences?$filter=id in (…) subscriptions, narrowed by their filter).
func Presences() string { return "communications/presences" }

// Presence is the topic of one user's presence.
func Presence(u string) string { return "communications/presences/" + u }

// OnlineMeeting is the prefix of every topic of one online meeting: deleting the
// meeting removes the subscriptions under it.
func OnlineMeeting(m string) string { return "communications/onlineMeetings/" + m }

// MeetingCallEvents is the topic of one meeting's call events (started, roster
// updated, ended).
func MeetingCallEvents(m string) string { return OnlineMeeting(m) + "/meetingCallEvents" }

// MeetingTranscripts is the topic of one meeting's transcripts.
func MeetingTranscripts(m string) string { return OnlineMeeting(m) + "/transcripts" }

// MeetingRecordings is the topic of one meeting's recordings.
func MeetingRecordings(m string) string { return OnlineMeeting(m) + "/recordings" }

// AllTranscripts is the topic of every meeting transcript of a tenant.
func AllTranscripts() string { return "communications/onlineMeetings/getAllTranscripts" }

// AllRecordings is the topic of every meeting recording of a tenant.
func AllRecordings() string { return "communications/onlineMeetings/getAllRecordings" }

// UserTranscripts is the topic of the transcripts of the meetings a user organizes.
func UserTranscripts(u string) string { return "users/" + u + "/onlineMeetings/getAllTranscripts" }

// UserRecordings is the topic of the recordings of the meetings a user organizes.
func UserRecordings(u string) string { return "users/" + u + "/onlineMeetings/getAllRecordings" }
