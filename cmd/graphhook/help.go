package main

// help is what `graphhook help <command>` says besides the flags.
type help struct {
	about    string
	examples []string
}

// helps are the commands' help texts, by command name. A command without an entry
// gets its flags only.
var helps = map[string]help{
	"serve": {
		about: `Runs the server: the Graph API, the subscriptions API and webhook delivery, the token
service, and the admin API under /_graphhook/. Without --database it keeps its data in
an embedded store in --data; without --fixture an empty store gets the demo tenant, whose
credentials the banner prints at every start. In the dev profile the admin key is
generated once and kept with the data.`,
		examples: []string{
			"graphhook serve",
			"graphhook serve --addr 127.0.0.1:9000 --data /tmp/graphhook-data",
			"graphhook serve --fixture tenants.yaml --https-addr off",
			"graphhook serve --database postgres://graphhook:secret@127.0.0.1:5432/graphhook --public-url https://graphhook.example.com",
			"graphhook serve --profile strict --admin-key \"$ADMIN_KEY\" --fixture tenants.yaml --tls-cert cert.pem --tls-key key.pem",
		},
	},
	"listen": {
		about: `Subscribes to a resource on a running graphhook and prints every notification as it
arrives (decrypted with --include-resource-data), forwarding each to --forward-to when
given. It signs in as the demo app unless told otherwise, renews the subscription before it
expires (in the server's time, which the admin API may move), re-creates it when the
server removed it, and deletes it on Ctrl-C.`,
		examples: []string{
			`graphhook listen --resource "/users/adele@contoso.onmicrosoft.com/mailFolders('inbox')/messages" --change-type created,updated`,
			`graphhook listen --resource /users --change-type updated,deleted --forward-to http://127.0.0.1:8080/notifications`,
			`graphhook listen --resource "/chats/getAllMessages" --change-type created --include-resource-data --key-out listen-key.pem`,
			`graphhook listen --username adele@contoso.onmicrosoft.com --password 'Passw0rd!' --resource /me/events --change-type created`,
		},
	},
	"bench": {
		about: `Measures change→notification throughput and latency: starts a server (or uses --target),
loopback receivers and subscriptions, drives changes through the Graph API for --duration
and prints what was delivered and how fast.`,
		examples: []string{
			"graphhook bench",
			"graphhook bench --scenario batched --duration 10s",
			"graphhook bench --scenario single --rate 1000 --clients 16 --json",
			"graphhook bench --target http://127.0.0.1:8787 --scenario single --subs 10",
		},
	},
	"ca": {
		about: `Shows graphhook's local certificate authority (creating it when there is none yet, as
serve would): where its certificate is, its fingerprint, and how to make clients trust it.`,
		examples: []string{
			"graphhook ca",
			"graphhook ca --export graphhook-ca.pem",
			"graphhook ca --export - > graphhook-ca.pem",
			"graphhook ca --database postgres://graphhook:secret@127.0.0.1:5432/graphhook --export graphhook-ca.pem",
		},
	},
	"version": {
		about:    "Prints graphhook's version: the module version and the source revision it was built from.",
		examples: []string{"graphhook version"},
	},
}
