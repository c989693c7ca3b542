
use builtin;
use str;

set edit:completion:arg-completer[tok] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tok'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tok'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand tenant 'Pulsar tenants on an instance'
            cand token 'Streaming tokens (Pulsar JWTs for a tenant) and application tokens, shown once'
            cand create 'Shortcut for `tok token create`'
            cand instance 'Instances (Pulsar clusters), their signing keys and broker.conf lines'
            cand org 'Org settings, such as the maximum token lifetime'
            cand audit 'The audit trail: every change, who made it and when'
            cand user 'People who log in to a server with a password, and the roles they hold'
            cand service-account 'Service accounts: non-human principals that own API keys and carry roles'
            cand sa 'Service accounts: non-human principals that own API keys and carry roles'
            cand apikey 'API keys: JWTs of a service account for one instance, shown once, immutable'
            cand role 'Roles: built-in and custom policies of actions on resources'
            cand usage 'Usage by tenant and day, monthly bills, the rate card; import and collect broker usage'
            cand server 'Run the control plane over HTTP for a team (`tok server start`, `tok server init`)'
            cand login 'Log in to a server: the session token goes to the OS keyring, the server to the profile'
            cand logout 'End the profile''s session and remove its credential'
            cand whoami 'Show who the profile acts as: principal, org, server, roles, session expiry'
            cand jwt 'Decode, verify and mint JWTs, and create keys, offline (replaces `pulsar tokens`)'
            cand profile 'Manage profiles: which control plane tok talks to, and as whom'
            cand completion 'Print a shell completion script'
            cand generate-docs 'Write the man pages and completion scripts into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;tenant'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a tenant (Pulsar names: letters, digits, _ - = : .)'
            cand list 'List tenants'
            cand get 'Show a tenant'
            cand delete 'Delete a tenant and all its tokens (asks you to type its name)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;tenant;create'= {
            cand --instance 'The instance it lives on [default: the profile''s, or the only one]'
            cand --description 'description'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;tenant;list'= {
            cand --instance 'instance'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;tenant;get'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;tenant;delete'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;tenant;help'= {
            cand create 'Create a tenant (Pulsar names: letters, digits, _ - = : .)'
            cand list 'List tenants'
            cand get 'Show a tenant'
            cand delete 'Delete a tenant and all its tokens (asks you to type its name)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;tenant;help;create'= {
        }
        &'tok;tenant;help;list'= {
        }
        &'tok;tenant;help;get'= {
        }
        &'tok;tenant;help;delete'= {
        }
        &'tok;tenant;help;help'= {
        }
        &'tok;token'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a streaming token (--tenant) or an application token (--role); secrets are shown only once'
            cand list 'List tokens (live ones; --expired and --all show more)'
            cand get 'Show a token''s metadata and what it may do (never the token itself)'
            cand inspect 'Ask the control plane whether a credential is active, and why not (`tok jwt decode` never asks): streaming tokens, API keys, application and session tokens'
            cand revocations 'The revocation feed: revoked streaming tokens and API keys, in the order revoked'
            cand delete 'Revoke a token (asks you to type its name); it stays listed as revoked with --all'
            cand revoke 'Revoke a token (asks you to type its name); it stays listed as revoked with --all'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;token;create'= {
            cand --tenant 'The tenant a streaming token is for; leave out (and give --role) for an application token'
            cand --role 'A role (name or id) the token carries; repeat for several. Required for an application token'
            cand --name 'Unique per tenant [default: <tenant>-<6 hex digits>]'
            cand --subject 'The `sub` claim, the role Pulsar authorizes [default: the token''s name]'
            cand --expires '30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never` [default: 30d for a streaming token, never for an application token]'
            cand --description 'description'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;token;list'= {
            cand --tenant 'tenant'
            cand --type 'Only one kind of token'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --expired 'Include expired tokens'
            cand --all 'Include expired and revoked tokens'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;token;get'= {
            cand --tenant 'The streaming token''s tenant; leave out for an application token'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;token;inspect'= {
            cand --file 'Read the token from a file'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;token;revocations'= {
            cand --since 'The next_cursor of a previous answer [default: from the beginning]'
            cand --limit 'At most this many entries'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;token;delete'= {
            cand --tenant 'The streaming token''s tenant; leave out for an application token'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;token;revoke'= {
            cand --tenant 'The streaming token''s tenant; leave out for an application token'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;token;help'= {
            cand create 'Create a streaming token (--tenant) or an application token (--role); secrets are shown only once'
            cand list 'List tokens (live ones; --expired and --all show more)'
            cand get 'Show a token''s metadata and what it may do (never the token itself)'
            cand inspect 'Ask the control plane whether a credential is active, and why not (`tok jwt decode` never asks): streaming tokens, API keys, application and session tokens'
            cand revocations 'The revocation feed: revoked streaming tokens and API keys, in the order revoked'
            cand delete 'Revoke a token (asks you to type its name); it stays listed as revoked with --all'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;token;help;create'= {
        }
        &'tok;token;help;list'= {
        }
        &'tok;token;help;get'= {
        }
        &'tok;token;help;inspect'= {
        }
        &'tok;token;help;revocations'= {
        }
        &'tok;token;help;delete'= {
        }
        &'tok;token;help;help'= {
        }
        &'tok;create'= {
            cand --tenant 'The tenant a streaming token is for; leave out (and give --role) for an application token'
            cand --role 'A role (name or id) the token carries; repeat for several. Required for an application token'
            cand --name 'Unique per tenant [default: <tenant>-<6 hex digits>]'
            cand --subject 'The `sub` claim, the role Pulsar authorizes [default: the token''s name]'
            cand --expires '30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never` [default: 30d for a streaming token, never for an application token]'
            cand --description 'description'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;instance'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create an instance with a new signing key, or with a Pulsar cluster''s existing key'
            cand list 'List instances'
            cand get 'Show an instance and its signing keys (active and retired)'
            cand delete 'Delete an instance (asks you to type its name); refuses while tenants or API keys use it'
            cand public-key 'Print or save the active public key (der, pem, jwk or data-url)'
            cand broker-config 'Print the broker.conf lines that make a Pulsar broker accept this instance''s tokens'
            cand rotate-key 'Create a new signing key (new kid); the old one is kept as retired'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;instance;create'= {
            cand --alg 'Signing algorithm [default: RS256, or what an imported key implies]'
            cand --audience 'The `aud` every token for this instance carries [default: urn:tok:<org>:<name>]'
            cand --issuer 'The `iss` every token for this instance carries'
            cand --private-key 'Keep the cluster''s RSA/EC private key (KEYREF: file:///…, data:;base64,…, path, base64)'
            cand --secret-key 'Keep the cluster''s HMAC secret key (KEYREF)'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;instance;list'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;instance;get'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;instance;delete'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --cascade 'Also delete its tenants, their tokens and the API keys for it (each live one goes into the revocation feed)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;instance;public-key'= {
            cand --format 'format'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;instance;broker-config'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;instance;rotate-key'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;instance;help'= {
            cand create 'Create an instance with a new signing key, or with a Pulsar cluster''s existing key'
            cand list 'List instances'
            cand get 'Show an instance and its signing keys (active and retired)'
            cand delete 'Delete an instance (asks you to type its name); refuses while tenants or API keys use it'
            cand public-key 'Print or save the active public key (der, pem, jwk or data-url)'
            cand broker-config 'Print the broker.conf lines that make a Pulsar broker accept this instance''s tokens'
            cand rotate-key 'Create a new signing key (new kid); the old one is kept as retired'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;instance;help;create'= {
        }
        &'tok;instance;help;list'= {
        }
        &'tok;instance;help;get'= {
        }
        &'tok;instance;help;delete'= {
        }
        &'tok;instance;help;public-key'= {
        }
        &'tok;instance;help;broker-config'= {
        }
        &'tok;instance;help;rotate-key'= {
        }
        &'tok;instance;help;help'= {
        }
        &'tok;org'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Show the org''s settings'
            cand set-max-token-lifetime 'Set the longest lifetime a new token may have (`none` removes the limit)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;org;show'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;org;set-max-token-lifetime'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;org;help'= {
            cand show 'Show the org''s settings'
            cand set-max-token-lifetime 'Set the longest lifetime a new token may have (`none` removes the limit)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;org;help;show'= {
        }
        &'tok;org;help;set-max-token-lifetime'= {
        }
        &'tok;org;help;help'= {
        }
        &'tok;audit'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List audit records, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;audit;list'= {
            cand --since 'Only records from this long ago (7d, 12h) or since an RFC 3339 time'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;audit;help'= {
            cand list 'List audit records, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;audit;help;list'= {
        }
        &'tok;audit;help;help'= {
        }
        &'tok;user'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a user holding the roles given'
            cand list 'List users'
            cand get 'Show a user'
            cand delete 'Delete a user and end its sessions (asks you to type the username)'
            cand set-password 'Set a user''s password; unlocks the account and ends its sessions'
            cand grant-role 'Grant a role (name or id) to a user'
            cand revoke-role 'Take a role (name or id) from a user (asks you to type the username)'
            cand disable 'Disable an account: it cannot log in, and its sessions end at once'
            cand enable 'Enable a disabled account'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;user;create'= {
            cand --role 'A role (name or id) to grant; repeat for several'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --password-stdin 'Read the password from stdin instead of a hidden prompt'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;user;list'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;user;get'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;user;delete'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;user;set-password'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --password-stdin 'Read the password from stdin instead of a hidden prompt'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;user;grant-role'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;user;revoke-role'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;user;disable'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;user;enable'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;user;help'= {
            cand create 'Create a user holding the roles given'
            cand list 'List users'
            cand get 'Show a user'
            cand delete 'Delete a user and end its sessions (asks you to type the username)'
            cand set-password 'Set a user''s password; unlocks the account and ends its sessions'
            cand grant-role 'Grant a role (name or id) to a user'
            cand revoke-role 'Take a role (name or id) from a user (asks you to type the username)'
            cand disable 'Disable an account: it cannot log in, and its sessions end at once'
            cand enable 'Enable a disabled account'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;user;help;create'= {
        }
        &'tok;user;help;list'= {
        }
        &'tok;user;help;get'= {
        }
        &'tok;user;help;delete'= {
        }
        &'tok;user;help;set-password'= {
        }
        &'tok;user;help;grant-role'= {
        }
        &'tok;user;help;revoke-role'= {
        }
        &'tok;user;help;disable'= {
        }
        &'tok;user;help;enable'= {
        }
        &'tok;user;help;help'= {
        }
        &'tok;service-account'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a service account'
            cand list 'List service accounts'
            cand get 'Show a service account, its roles and its API keys'
            cand delete 'Delete a service account and all its API keys (asks you to type its name)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;sa'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a service account'
            cand list 'List service accounts'
            cand get 'Show a service account, its roles and its API keys'
            cand delete 'Delete a service account and all its API keys (asks you to type its name)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;service-account;create'= {
            cand --role 'A role (name or id) it holds; repeat for several'
            cand --description 'description'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;sa;create'= {
            cand --role 'A role (name or id) it holds; repeat for several'
            cand --description 'description'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;service-account;list'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;sa;list'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;service-account;get'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;sa;get'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;service-account;delete'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;sa;delete'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;service-account;help'= {
            cand create 'Create a service account'
            cand list 'List service accounts'
            cand get 'Show a service account, its roles and its API keys'
            cand delete 'Delete a service account and all its API keys (asks you to type its name)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;service-account;help;create'= {
        }
        &'tok;service-account;help;list'= {
        }
        &'tok;service-account;help;get'= {
        }
        &'tok;service-account;help;delete'= {
        }
        &'tok;service-account;help;help'= {
        }
        &'tok;sa;help'= {
            cand create 'Create a service account'
            cand list 'List service accounts'
            cand get 'Show a service account, its roles and its API keys'
            cand delete 'Delete a service account and all its API keys (asks you to type its name)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;sa;help;create'= {
        }
        &'tok;sa;help;list'= {
        }
        &'tok;sa;help;get'= {
        }
        &'tok;sa;help;delete'= {
        }
        &'tok;sa;help;help'= {
        }
        &'tok;apikey'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create an API key for a service account on an instance; the key is shown only once'
            cand list 'List API keys'
            cand get 'Show an API key (never the key itself)'
            cand revoke 'Revoke an API key (asks you to type its name); it stays listed as revoked until purged'
            cand delete 'Revoke and remove an API key at once (asks you to type its name)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;apikey;create'= {
            cand --service-account 'The service account the key acts as'
            cand --instance 'The instance whose key signs it [default: the org''s only one]'
            cand --name 'Unique per org [default: <service account>-<6 hex digits>]'
            cand --description 'description'
            cand --expires '30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never`'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;apikey;list'= {
            cand --service-account 'Only this service account''s keys'
            cand --instance 'Only keys for this instance'
            cand --status 'Only keys with this status'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;apikey;get'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;apikey;revoke'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;apikey;delete'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;apikey;help'= {
            cand create 'Create an API key for a service account on an instance; the key is shown only once'
            cand list 'List API keys'
            cand get 'Show an API key (never the key itself)'
            cand revoke 'Revoke an API key (asks you to type its name); it stays listed as revoked until purged'
            cand delete 'Revoke and remove an API key at once (asks you to type its name)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;apikey;help;create'= {
        }
        &'tok;apikey;help;list'= {
        }
        &'tok;apikey;help;get'= {
        }
        &'tok;apikey;help;revoke'= {
        }
        &'tok;apikey;help;delete'= {
        }
        &'tok;apikey;help;help'= {
        }
        &'tok;role'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a custom role; it may grant only what you hold yourself'
            cand list 'List the built-in roles, then the org''s custom roles'
            cand get 'Show a role and its policy'
            cand update 'Change a custom role: the actions or resources given replace the current ones'
            cand delete 'Delete a custom role (asks you to type its name); refused while anyone holds it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;role;create'= {
            cand --action 'An action the role allows; repeat for several'
            cand --resource 'A resource it allows them on (drn:tok:<org>…); repeat for several'
            cand --description 'description'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;role;list'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;role;get'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;role;update'= {
            cand --action 'The actions it allows (replaces them all); repeat for several'
            cand --resource 'The resources it allows them on (replaces them all); repeat for several'
            cand --description 'description'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;role;delete'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --force 'Delete it even while users or tokens hold it (they lose it)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;role;help'= {
            cand create 'Create a custom role; it may grant only what you hold yourself'
            cand list 'List the built-in roles, then the org''s custom roles'
            cand get 'Show a role and its policy'
            cand update 'Change a custom role: the actions or resources given replace the current ones'
            cand delete 'Delete a custom role (asks you to type its name); refused while anyone holds it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;role;help;create'= {
        }
        &'tok;role;help;list'= {
        }
        &'tok;role;help;get'= {
        }
        &'tok;role;help;update'= {
        }
        &'tok;role;help;delete'= {
        }
        &'tok;role;help;help'= {
        }
        &'tok;usage'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Usage by tenant and day (or month): a table, and on a terminal a bar chart per metric'
            cand billing 'A month''s bill: usage × the rate card, one row per tenant and metric, with totals'
            cand rates 'The rate card: the price per unit of each metric, and the currency'
            cand import 'Record usage from a file of records or from pulsar-admin stats JSON'
            cand collect 'Scrape a broker''s Prometheus metrics and record per-day increases per tenant'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;usage;show'= {
            cand --tenant 'Only this tenant'
            cand --since 'The last N days up to today (30d, 2w) [default: 30d]'
            cand --from 'First day, YYYY-MM-DD (UTC)'
            cand --to 'Last day, YYYY-MM-DD (UTC) [default: today]'
            cand --metric 'Only this metric'
            cand --by 'Group by day or by month'
            cand --chart 'Draw the bar chart (table output only)'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;usage;billing'= {
            cand --month 'The month, YYYY-MM (UTC)'
            cand --tenant 'Only this tenant'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;usage;rates'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Show the rate card'
            cand set 'Set prices (METRIC PRICE pairs) and/or the currency'
            cand unset 'Stop billing metrics (remove their prices)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;usage;rates;show'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;usage;rates;set'= {
            cand --currency 'ISO 4217 currency code, e.g. EUR (amounts are rounded to its minor units)'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;usage;rates;unset'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;usage;rates;help'= {
            cand show 'Show the rate card'
            cand set 'Set prices (METRIC PRICE pairs) and/or the currency'
            cand unset 'Stop billing metrics (remove their prices)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;usage;rates;help;show'= {
        }
        &'tok;usage;rates;help;set'= {
        }
        &'tok;usage;rates;help;unset'= {
        }
        &'tok;usage;rates;help;help'= {
        }
        &'tok;usage;import'= {
            cand --batch-id 'The batch id (default: derived from the file''s content)'
            cand --at 'When pulsar-admin stats were taken (RFC 3339) [default: now]'
            cand --topic 'The topic a `topics stats` document is about (persistent://tenant/namespace/topic)'
            cand --namespace 'The namespace a `topics stats` document belongs to (tenant/namespace)'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --atomic 'Reject the whole file if any record is bad (at most 10,000 records)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;usage;collect'= {
            cand --prometheus 'A broker''s metrics URL, e.g. http://broker:8080/metrics; repeat it for every broker of a cluster, so that storage (served in parts by several brokers) is added up'
            cand --interval 'Time between scrapes (10s at least)'
            cand --state 'The state file [default: <data dir>/usage-collect/<hash of the URLs>.json]'
            cand --timeout 'How long one scrape may take'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --once 'Scrape once, record, save the state, and exit'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;usage;help'= {
            cand show 'Usage by tenant and day (or month): a table, and on a terminal a bar chart per metric'
            cand billing 'A month''s bill: usage × the rate card, one row per tenant and metric, with totals'
            cand rates 'The rate card: the price per unit of each metric, and the currency'
            cand import 'Record usage from a file of records or from pulsar-admin stats JSON'
            cand collect 'Scrape a broker''s Prometheus metrics and record per-day increases per tenant'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;usage;help;show'= {
        }
        &'tok;usage;help;billing'= {
        }
        &'tok;usage;help;rates'= {
            cand show 'Show the rate card'
            cand set 'Set prices (METRIC PRICE pairs) and/or the currency'
            cand unset 'Stop billing metrics (remove their prices)'
        }
        &'tok;usage;help;rates;show'= {
        }
        &'tok;usage;help;rates;set'= {
        }
        &'tok;usage;help;rates;unset'= {
        }
        &'tok;usage;help;import'= {
        }
        &'tok;usage;help;collect'= {
        }
        &'tok;usage;help;help'= {
        }
        &'tok;server'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand start 'Serve the control plane over HTTP until SIGINT/SIGTERM (in-flight requests finish)'
            cand init 'Create an org, its first instance and its first administrator; prints the credentials once'
            cand migrate-data 'Copy a SQLite database (embedded or single-node) into an empty PostgreSQL database, and verify the copy'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;server;start'= {
            cand --listen 'Address to listen on; beyond loopback only with TLS or --insecure-http'
            cand --database 'sqlite://PATH (sqlite:///abs/path or sqlite://relative/path), or postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…] [default: sqlite://<data dir>/server.db]'
            cand --master-key-file 'File holding the base64 master key [else TOK_MASTER_KEY]'
            cand --tls-cert 'PEM certificate chain for HTTPS'
            cand --tls-key 'PEM private key for HTTPS'
            cand --session-ttl 'How long a session stays valid after its last use'
            cand --session-max-lifetime 'How long after login a session ends however often it is used'
            cand --lockout-threshold 'Consecutive failed logins that lock an account'
            cand --lockout-duration 'How long a locked account stays locked'
            cand --session-cache 'How long a looked-up session is reused before it is read again (`0s`: every request reads it). A session ended on another replica sharing the database stops working here within this time; one ended on this server, at once'
            cand --apikey-retention 'How long a revoked API key stays listed (as revoked) before it is purged; its entry in the revocation feed stays at least as long, and until the key expires. Replicas sharing a database take turns at the purge (one run per 10 minutes between them), each with its own value: give them the same'
            cand --meter-flush-interval 'How often the control plane''s own usage counts (tokens issued, authentications, introspections, API calls) are written: a crash loses at most this much of them; a clean stop loses none'
            cand --shutdown-grace 'How long in-flight requests may take to finish on shutdown'
            cand --log-format 'Log format on stderr'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --insecure-http 'Allow plain HTTP on a non-loopback address (tokens and passwords cross the network in clear)'
            cand --dev 'Try the API: a temporary database and master key, loopback only, an admin session printed once'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;server;init'= {
            cand --database 'sqlite://PATH (sqlite:///abs/path or sqlite://relative/path), or postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…] [default: sqlite://<data dir>/server.db]'
            cand --master-key-file 'File holding the base64 master key [else TOK_MASTER_KEY]'
            cand --org 'The org to create'
            cand --admin 'The first administrator''s username'
            cand --instance 'The org''s first instance'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --password-stdin 'Read the administrator''s password from stdin instead of generating one'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;server;migrate-data'= {
            cand --from 'The SQLite database to copy: sqlite://PATH'
            cand --to 'The empty PostgreSQL database to copy into: postgres://… (or TOK_DATABASE_URL)'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --verify-only 'Only compare the two databases (row counts and checksums); write nothing'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;server;help'= {
            cand start 'Serve the control plane over HTTP until SIGINT/SIGTERM (in-flight requests finish)'
            cand init 'Create an org, its first instance and its first administrator; prints the credentials once'
            cand migrate-data 'Copy a SQLite database (embedded or single-node) into an empty PostgreSQL database, and verify the copy'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;server;help;start'= {
        }
        &'tok;server;help;init'= {
        }
        &'tok;server;help;migrate-data'= {
        }
        &'tok;server;help;help'= {
        }
        &'tok;login'= {
            cand --org 'The org you expect to log in to; refused when the account belongs to another'
            cand --username 'Username [default: asked]'
            cand --ca-cert 'PEM CA certificates to trust for this server (a private CA); remembered in the profile'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --password-stdin 'Read the password from stdin instead of a hidden prompt'
            cand --with-token 'Read a session token, an application token or an API key from stdin instead of logging in with a password (for CI)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;logout'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;whoami'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;jwt'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand decode 'Show a token''s header and claims and what they mean; the signature is not checked'
            cand verify 'Check a token''s signature and claims against a key, as a broker would'
            cand create 'Mint a token signed with a secret or private key'
            cand create-secret-key 'Create a random HMAC secret key (HS256/384/512), as a broker''s tokenSecretKey'
            cand create-key-pair 'Create an RSA or EC key pair: PKCS#8 private key and X.509 public key'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;jwt;decode'= {
            cand --file 'Read the token from a file'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;jwt;verify'= {
            cand --file 'Read the token from a file'
            cand --secret-key 'HMAC secret key (raw bytes), for HS256/384/512 tokens'
            cand --public-key 'RSA or EC public key (X.509 DER or PEM), for RS*/ES* tokens'
            cand --jwks 'A JSON Web Key Set; the token''s `kid` picks the key'
            cand --alg 'Accept only this algorithm (default: any the key type allows)'
            cand --audience 'Require this `aud` (a string, or one of the strings of an array)'
            cand --issuer 'Require this `iss`'
            cand --leeway 'Clock skew tolerated on exp and nbf: seconds, or a duration such as 30s or 2m'
            cand --require 'A claim that must be present, e.g. `--require exp` (repeatable)'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;jwt;create'= {
            cand --subject 'The `sub` claim: the role a Pulsar broker authorizes'
            cand --secret-key 'HMAC secret key (raw bytes, at least 32)'
            cand --private-key 'RSA (≥ 2048 bits) or EC private key, PKCS#8 DER or PEM'
            cand --alg 'Signing algorithm; must fit the key [default: from the key]'
            cand --expires 'When the token expires: 30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never`'
            cand --audience 'The `aud` claim (a broker with tokenAudience set requires it)'
            cand --issuer 'The `iss` claim'
            cand --claim 'An extra claim, KEY=VALUE; VALUE is parsed as JSON when it can be (true, 42, "x", [1])'
            cand --header 'An extra header field, KEY=VALUE (e.g. kid=2026-11), parsed like --claim'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;jwt;create-secret-key'= {
            cand --alg 'Size the key for this algorithm: 32 bytes for HS256, 48 for HS384, 64 for HS512'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --base64 'Write base64 text to the --output file instead of raw bytes'
            cand --force 'Overwrite an existing file'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;jwt;create-key-pair'= {
            cand --alg 'RS256, RS384, RS512, ES256, ES384 or ES512'
            cand --private-key 'Where to write the private key (mode 0600)'
            cand --public-key 'Where to write the public key'
            cand --format 'File encoding'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand --force 'Overwrite existing files'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;jwt;help'= {
            cand decode 'Show a token''s header and claims and what they mean; the signature is not checked'
            cand verify 'Check a token''s signature and claims against a key, as a broker would'
            cand create 'Mint a token signed with a secret or private key'
            cand create-secret-key 'Create a random HMAC secret key (HS256/384/512), as a broker''s tokenSecretKey'
            cand create-key-pair 'Create an RSA or EC key pair: PKCS#8 private key and X.509 public key'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;jwt;help;decode'= {
        }
        &'tok;jwt;help;verify'= {
        }
        &'tok;jwt;help;create'= {
        }
        &'tok;jwt;help;create-secret-key'= {
        }
        &'tok;jwt;help;create-key-pair'= {
        }
        &'tok;jwt;help;help'= {
        }
        &'tok;profile'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List profiles; the current one is marked'
            cand show 'Show one profile (default: the one this command would use)'
            cand use 'Make a profile the current one (`tok profile use local` returns to the embedded mode)'
            cand set 'Create a profile or change its settings: server, org, instance, output'
            cand delete 'Delete a profile and its stored credential (asks you to type its name)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;profile;list'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;profile;show'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;profile;use'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;profile;set'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;profile;delete'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;profile;help'= {
            cand list 'List profiles; the current one is marked'
            cand show 'Show one profile (default: the one this command would use)'
            cand use 'Make a profile the current one (`tok profile use local` returns to the embedded mode)'
            cand set 'Create a profile or change its settings: server, org, instance, output'
            cand delete 'Delete a profile and its stored credential (asks you to type its name)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;profile;help;list'= {
        }
        &'tok;profile;help;show'= {
        }
        &'tok;profile;help;use'= {
        }
        &'tok;profile;help;set'= {
        }
        &'tok;profile;help;delete'= {
        }
        &'tok;profile;help;help'= {
        }
        &'tok;completion'= {
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;generate-docs'= {
            cand --out-dir 'Directory that receives man/ and completions/'
            cand --profile 'Profile to use for this command only (default: the current profile, see `tok profile use`)'
            cand -o 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --output 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)'
            cand --server 'Control-plane server URL for this command (overrides the profile''s)'
            cand --color 'When to use colours (NO_COLOR is honoured by `auto`)'
            cand -y 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --yes 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
            cand --no-input 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
            cand -q 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand --quiet 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
            cand -v 'Say more about what is happening, on stderr (repeat for more)'
            cand --verbose 'Say more about what is happening, on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'tok;help'= {
            cand tenant 'Pulsar tenants on an instance'
            cand token 'Streaming tokens (Pulsar JWTs for a tenant) and application tokens, shown once'
            cand create 'Shortcut for `tok token create`'
            cand instance 'Instances (Pulsar clusters), their signing keys and broker.conf lines'
            cand org 'Org settings, such as the maximum token lifetime'
            cand audit 'The audit trail: every change, who made it and when'
            cand user 'People who log in to a server with a password, and the roles they hold'
            cand service-account 'Service accounts: non-human principals that own API keys and carry roles'
            cand apikey 'API keys: JWTs of a service account for one instance, shown once, immutable'
            cand role 'Roles: built-in and custom policies of actions on resources'
            cand usage 'Usage by tenant and day, monthly bills, the rate card; import and collect broker usage'
            cand server 'Run the control plane over HTTP for a team (`tok server start`, `tok server init`)'
            cand login 'Log in to a server: the session token goes to the OS keyring, the server to the profile'
            cand logout 'End the profile''s session and remove its credential'
            cand whoami 'Show who the profile acts as: principal, org, server, roles, session expiry'
            cand jwt 'Decode, verify and mint JWTs, and create keys, offline (replaces `pulsar tokens`)'
            cand profile 'Manage profiles: which control plane tok talks to, and as whom'
            cand completion 'Print a shell completion script'
            cand generate-docs 'Write the man pages and completion scripts into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'tok;help;tenant'= {
            cand create 'Create a tenant (Pulsar names: letters, digits, _ - = : .)'
            cand list 'List tenants'
            cand get 'Show a tenant'
            cand delete 'Delete a tenant and all its tokens (asks you to type its name)'
        }
        &'tok;help;tenant;create'= {
        }
        &'tok;help;tenant;list'= {
        }
        &'tok;help;tenant;get'= {
        }
        &'tok;help;tenant;delete'= {
        }
        &'tok;help;token'= {
            cand create 'Create a streaming token (--tenant) or an application token (--role); secrets are shown only once'
            cand list 'List tokens (live ones; --expired and --all show more)'
            cand get 'Show a token''s metadata and what it may do (never the token itself)'
            cand inspect 'Ask the control plane whether a credential is active, and why not (`tok jwt decode` never asks): streaming tokens, API keys, application and session tokens'
            cand revocations 'The revocation feed: revoked streaming tokens and API keys, in the order revoked'
            cand delete 'Revoke a token (asks you to type its name); it stays listed as revoked with --all'
        }
        &'tok;help;token;create'= {
        }
        &'tok;help;token;list'= {
        }
        &'tok;help;token;get'= {
        }
        &'tok;help;token;inspect'= {
        }
        &'tok;help;token;revocations'= {
        }
        &'tok;help;token;delete'= {
        }
        &'tok;help;create'= {
        }
        &'tok;help;instance'= {
            cand create 'Create an instance with a new signing key, or with a Pulsar cluster''s existing key'
            cand list 'List instances'
            cand get 'Show an instance and its signing keys (active and retired)'
            cand delete 'Delete an instance (asks you to type its name); refuses while tenants or API keys use it'
            cand public-key 'Print or save the active public key (der, pem, jwk or data-url)'
            cand broker-config 'Print the broker.conf lines that make a Pulsar broker accept this instance''s tokens'
            cand rotate-key 'Create a new signing key (new kid); the old one is kept as retired'
        }
        &'tok;help;instance;create'= {
        }
        &'tok;help;instance;list'= {
        }
        &'tok;help;instance;get'= {
        }
        &'tok;help;instance;delete'= {
        }
        &'tok;help;instance;public-key'= {
        }
        &'tok;help;instance;broker-config'= {
        }
        &'tok;help;instance;rotate-key'= {
        }
        &'tok;help;org'= {
            cand show 'Show the org''s settings'
            cand set-max-token-lifetime 'Set the longest lifetime a new token may have (`none` removes the limit)'
        }
        &'tok;help;org;show'= {
        }
        &'tok;help;org;set-max-token-lifetime'= {
        }
        &'tok;help;audit'= {
            cand list 'List audit records, oldest first'
        }
        &'tok;help;audit;list'= {
        }
        &'tok;help;user'= {
            cand create 'Create a user holding the roles given'
            cand list 'List users'
            cand get 'Show a user'
            cand delete 'Delete a user and end its sessions (asks you to type the username)'
            cand set-password 'Set a user''s password; unlocks the account and ends its sessions'
            cand grant-role 'Grant a role (name or id) to a user'
            cand revoke-role 'Take a role (name or id) from a user (asks you to type the username)'
            cand disable 'Disable an account: it cannot log in, and its sessions end at once'
            cand enable 'Enable a disabled account'
        }
        &'tok;help;user;create'= {
        }
        &'tok;help;user;list'= {
        }
        &'tok;help;user;get'= {
        }
        &'tok;help;user;delete'= {
        }
        &'tok;help;user;set-password'= {
        }
        &'tok;help;user;grant-role'= {
        }
        &'tok;help;user;revoke-role'= {
        }
        &'tok;help;user;disable'= {
        }
        &'tok;help;user;enable'= {
        }
        &'tok;help;service-account'= {
            cand create 'Create a service account'
            cand list 'List service accounts'
            cand get 'Show a service account, its roles and its API keys'
            cand delete 'Delete a service account and all its API keys (asks you to type its name)'
        }
        &'tok;help;service-account;create'= {
        }
        &'tok;help;service-account;list'= {
        }
        &'tok;help;service-account;get'= {
        }
        &'tok;help;service-account;delete'= {
        }
        &'tok;help;apikey'= {
            cand create 'Create an API key for a service account on an instance; the key is shown only once'
            cand list 'List API keys'
            cand get 'Show an API key (never the key itself)'
            cand revoke 'Revoke an API key (asks you to type its name); it stays listed as revoked until purged'
            cand delete 'Revoke and remove an API key at once (asks you to type its name)'
        }
        &'tok;help;apikey;create'= {
        }
        &'tok;help;apikey;list'= {
        }
        &'tok;help;apikey;get'= {
        }
        &'tok;help;apikey;revoke'= {
        }
        &'tok;help;apikey;delete'= {
        }
        &'tok;help;role'= {
            cand create 'Create a custom role; it may grant only what you hold yourself'
            cand list 'List the built-in roles, then the org''s custom roles'
            cand get 'Show a role and its policy'
            cand update 'Change a custom role: the actions or resources given replace the current ones'
            cand delete 'Delete a custom role (asks you to type its name); refused while anyone holds it'
        }
        &'tok;help;role;create'= {
        }
        &'tok;help;role;list'= {
        }
        &'tok;help;role;get'= {
        }
        &'tok;help;role;update'= {
        }
        &'tok;help;role;delete'= {
        }
        &'tok;help;usage'= {
            cand show 'Usage by tenant and day (or month): a table, and on a terminal a bar chart per metric'
            cand billing 'A month''s bill: usage × the rate card, one row per tenant and metric, with totals'
            cand rates 'The rate card: the price per unit of each metric, and the currency'
            cand import 'Record usage from a file of records or from pulsar-admin stats JSON'
            cand collect 'Scrape a broker''s Prometheus metrics and record per-day increases per tenant'
        }
        &'tok;help;usage;show'= {
        }
        &'tok;help;usage;billing'= {
        }
        &'tok;help;usage;rates'= {
            cand show 'Show the rate card'
            cand set 'Set prices (METRIC PRICE pairs) and/or the currency'
            cand unset 'Stop billing metrics (remove their prices)'
        }
        &'tok;help;usage;rates;show'= {
        }
        &'tok;help;usage;rates;set'= {
        }
        &'tok;help;usage;rates;unset'= {
        }
        &'tok;help;usage;import'= {
        }
        &'tok;help;usage;collect'= {
        }
        &'tok;help;server'= {
            cand start 'Serve the control plane over HTTP until SIGINT/SIGTERM (in-flight requests finish)'
            cand init 'Create an org, its first instance and its first administrator; prints the credentials once'
            cand migrate-data 'Copy a SQLite database (embedded or single-node) into an empty PostgreSQL database, and verify the copy'
        }
        &'tok;help;server;start'= {
        }
        &'tok;help;server;init'= {
        }
        &'tok;help;server;migrate-data'= {
        }
        &'tok;help;login'= {
        }
        &'tok;help;logout'= {
        }
        &'tok;help;whoami'= {
        }
        &'tok;help;jwt'= {
            cand decode 'Show a token''s header and claims and what they mean; the signature is not checked'
            cand verify 'Check a token''s signature and claims against a key, as a broker would'
            cand create 'Mint a token signed with a secret or private key'
            cand create-secret-key 'Create a random HMAC secret key (HS256/384/512), as a broker''s tokenSecretKey'
            cand create-key-pair 'Create an RSA or EC key pair: PKCS#8 private key and X.509 public key'
        }
        &'tok;help;jwt;decode'= {
        }
        &'tok;help;jwt;verify'= {
        }
        &'tok;help;jwt;create'= {
        }
        &'tok;help;jwt;create-secret-key'= {
        }
        &'tok;help;jwt;create-key-pair'= {
        }
        &'tok;help;profile'= {
            cand list 'List profiles; the current one is marked'
            cand show 'Show one profile (default: the one this command would use)'
            cand use 'Make a profile the current one (`tok profile use local` returns to the embedded mode)'
            cand set 'Create a profile or change its settings: server, org, instance, output'
            cand delete 'Delete a profile and its stored credential (asks you to type its name)'
        }
        &'tok;help;profile;list'= {
        }
        &'tok;help;profile;show'= {
        }
        &'tok;help;profile;use'= {
        }
        &'tok;help;profile;set'= {
        }
        &'tok;help;profile;delete'= {
        }
        &'tok;help;completion'= {
        }
        &'tok;help;generate-docs'= {
        }
        &'tok;help;help'= {
        }
    ]
    $completions[$command]
}
