#!/usr/bin/env bash
# SETTINGS.oauth_clients (JSON array, $1) -> pgAdmin's OAUTH2_CONFIG as a Python literal on stdout,
# nothing when there is no client. The official image writes each PGADMIN_CONFIG_<NAME> variable
# into its config as `NAME = <value>`; JSON objects of strings are valid Python. See docs/sso.md.
set -euo pipefail
clients=${1:-[]}
jq -ce 'if (type == "array" and length > 0) then
          [.[] | {
            OAUTH2_NAME: (.name // "collab"),
            OAUTH2_DISPLAY_NAME: "Platform sign-in",
            OAUTH2_CLIENT_ID: .client_id,
            OAUTH2_CLIENT_SECRET: .client_secret,
            OAUTH2_TOKEN_URL: .token_url,
            OAUTH2_AUTHORIZATION_URL: .authorization_url,
            OAUTH2_API_BASE_URL: (.issuer + "/"),
            OAUTH2_USERINFO_ENDPOINT: .userinfo_url,
            OAUTH2_SERVER_METADATA_URL: .server_metadata_url,
            OAUTH2_SCOPE: (.scope // "openid email profile"),
            OAUTH2_USERNAME_CLAIM: "email"
          } | if ([.[]] | all(type == "string")) then . else error("oauth_clients: every field must be a string") end]
        else empty end' <<<"$clients" || [[ $? -eq 4 ]]
