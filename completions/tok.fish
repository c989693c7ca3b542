# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tok_global_optspecs
    string join \n profile= o/output= server= y/yes no-input color= q/quiet v/verbose h/help V/version
end

function __fish_tok_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tok_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tok_using_subcommand
    set -l cmd (__fish_tok_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tok -n "__fish_tok_needs_command" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_needs_command" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_needs_command" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_needs_command" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_needs_command" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_needs_command" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_needs_command" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_needs_command" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_needs_command" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_needs_command" -f -a "tenant" -d 'Pulsar tenants on an instance'
complete -c tok -n "__fish_tok_needs_command" -f -a "token" -d 'Streaming tokens (Pulsar JWTs for a tenant) and application tokens, shown once'
complete -c tok -n "__fish_tok_needs_command" -f -a "create" -d 'Shortcut for `tok token create`'
complete -c tok -n "__fish_tok_needs_command" -f -a "instance" -d 'Instances (Pulsar clusters), their signing keys and broker.conf lines'
complete -c tok -n "__fish_tok_needs_command" -f -a "org" -d 'Org settings, such as the maximum token lifetime'
complete -c tok -n "__fish_tok_needs_command" -f -a "audit" -d 'The audit trail: every change, who made it and when'
complete -c tok -n "__fish_tok_needs_command" -f -a "user" -d 'People who log in to a server with a password, and the roles they hold'
complete -c tok -n "__fish_tok_needs_command" -f -a "service-account" -d 'Service accounts: non-human principals that own API keys and carry roles'
complete -c tok -n "__fish_tok_needs_command" -f -a "sa" -d 'Service accounts: non-human principals that own API keys and carry roles'
complete -c tok -n "__fish_tok_needs_command" -f -a "apikey" -d 'API keys: JWTs of a service account for one instance, shown once, immutable'
complete -c tok -n "__fish_tok_needs_command" -f -a "role" -d 'Roles: built-in and custom policies of actions on resources'
complete -c tok -n "__fish_tok_needs_command" -f -a "usage" -d 'Usage by tenant and day, monthly bills, the rate card; import and collect broker usage'
complete -c tok -n "__fish_tok_needs_command" -f -a "server" -d 'Run the control plane over HTTP for a team (`tok server start`, `tok server init`)'
complete -c tok -n "__fish_tok_needs_command" -f -a "login" -d 'Log in to a server: the session token goes to the OS keyring, the server to the profile'
complete -c tok -n "__fish_tok_needs_command" -f -a "logout" -d 'End the profile\'s session and remove its credential'
complete -c tok -n "__fish_tok_needs_command" -f -a "whoami" -d 'Show who the profile acts as: principal, org, server, roles, session expiry'
complete -c tok -n "__fish_tok_needs_command" -f -a "jwt" -d 'Decode, verify and mint JWTs, and create keys, offline (replaces `pulsar tokens`)'
complete -c tok -n "__fish_tok_needs_command" -f -a "profile" -d 'Manage profiles: which control plane tok talks to, and as whom'
complete -c tok -n "__fish_tok_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c tok -n "__fish_tok_needs_command" -f -a "generate-docs" -d 'Write the man pages and completion scripts into a directory (for packagers)'
complete -c tok -n "__fish_tok_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -f -a "create" -d 'Create a tenant (Pulsar names: letters, digits, _ - = : .)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -f -a "list" -d 'List tenants'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -f -a "get" -d 'Show a tenant'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -f -a "delete" -d 'Delete a tenant and all its tokens (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and not __fish_seen_subcommand_from create list get delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -l instance -d 'The instance it lives on [default: the profile\'s, or the only one]' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -l description -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -l instance -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from get" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from get" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from get" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from get" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from get" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from delete" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from delete" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a tenant (Pulsar names: letters, digits, _ - = : .)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from help" -f -a "list" -d 'List tenants'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from help" -f -a "get" -d 'Show a tenant'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a tenant and all its tokens (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand tenant; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -f -a "create" -d 'Create a streaming token (--tenant) or an application token (--role); secrets are shown only once'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -f -a "list" -d 'List tokens (live ones; --expired and --all show more)'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -f -a "get" -d 'Show a token\'s metadata and what it may do (never the token itself)'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -f -a "inspect" -d 'Ask the control plane whether a credential is active, and why not (`tok jwt decode` never asks): streaming tokens, API keys, application and session tokens'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -f -a "revocations" -d 'The revocation feed: revoked streaming tokens and API keys, in the order revoked'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -f -a "delete" -d 'Revoke a token (asks you to type its name); it stays listed as revoked with --all'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -f -a "revoke" -d 'Revoke a token (asks you to type its name); it stays listed as revoked with --all'
complete -c tok -n "__fish_tok_using_subcommand token; and not __fish_seen_subcommand_from create list get inspect revocations delete revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -l tenant -d 'The tenant a streaming token is for; leave out (and give --role) for an application token' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -l role -d 'A role (name or id) the token carries; repeat for several. Required for an application token' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -l name -d 'Unique per tenant [default: <tenant>-<6 hex digits>]' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -l subject -d 'The `sub` claim, the role Pulsar authorizes [default: the token\'s name]' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -l expires -d '30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never` [default: 30d for a streaming token, never for an application token]' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -l description -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -l tenant -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -l type -d 'Only one kind of token' -r -f -a "streaming\t''
application\t''"
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -l expired -d 'Include expired tokens'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -l all -d 'Include expired and revoked tokens'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -l tenant -d 'The streaming token\'s tenant; leave out for an application token' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -l file -d 'Read the token from a file' -r -F
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -l since -d 'The next_cursor of a previous answer [default: from the beginning]' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -l limit -d 'At most this many entries' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revocations" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -l tenant -d 'The streaming token\'s tenant; leave out for an application token' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -l tenant -d 'The streaming token\'s tenant; leave out for an application token' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from revoke" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a streaming token (--tenant) or an application token (--role); secrets are shown only once'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "list" -d 'List tokens (live ones; --expired and --all show more)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "get" -d 'Show a token\'s metadata and what it may do (never the token itself)'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Ask the control plane whether a credential is active, and why not (`tok jwt decode` never asks): streaming tokens, API keys, application and session tokens'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "revocations" -d 'The revocation feed: revoked streaming tokens and API keys, in the order revoked'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Revoke a token (asks you to type its name); it stays listed as revoked with --all'
complete -c tok -n "__fish_tok_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand create" -l tenant -d 'The tenant a streaming token is for; leave out (and give --role) for an application token' -r
complete -c tok -n "__fish_tok_using_subcommand create" -l role -d 'A role (name or id) the token carries; repeat for several. Required for an application token' -r
complete -c tok -n "__fish_tok_using_subcommand create" -l name -d 'Unique per tenant [default: <tenant>-<6 hex digits>]' -r
complete -c tok -n "__fish_tok_using_subcommand create" -l subject -d 'The `sub` claim, the role Pulsar authorizes [default: the token\'s name]' -r
complete -c tok -n "__fish_tok_using_subcommand create" -l expires -d '30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never` [default: 30d for a streaming token, never for an application token]' -r
complete -c tok -n "__fish_tok_using_subcommand create" -l description -r
complete -c tok -n "__fish_tok_using_subcommand create" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand create" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand create" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand create" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand create" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand create" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand create" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand create" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand create" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -f -a "create" -d 'Create an instance with a new signing key, or with a Pulsar cluster\'s existing key'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -f -a "list" -d 'List instances'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -f -a "get" -d 'Show an instance and its signing keys (active and retired)'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -f -a "delete" -d 'Delete an instance (asks you to type its name); refuses while tenants or API keys use it'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -f -a "public-key" -d 'Print or save the active public key (der, pem, jwk or data-url)'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -f -a "broker-config" -d 'Print the broker.conf lines that make a Pulsar broker accept this instance\'s tokens'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -f -a "rotate-key" -d 'Create a new signing key (new kid); the old one is kept as retired'
complete -c tok -n "__fish_tok_using_subcommand instance; and not __fish_seen_subcommand_from create list get delete public-key broker-config rotate-key help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -l alg -d 'Signing algorithm [default: RS256, or what an imported key implies]' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -l audience -d 'The `aud` every token for this instance carries [default: urn:tok:<org>:<name>]' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -l issuer -d 'The `iss` every token for this instance carries' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -l private-key -d 'Keep the cluster\'s RSA/EC private key (KEYREF: file:///…, data:;base64,…, path, base64)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -l secret-key -d 'Keep the cluster\'s HMAC secret key (KEYREF)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from list" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from get" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from get" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from get" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from get" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from get" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -l cascade -d 'Also delete its tenants, their tokens and the API keys for it (each live one goes into the revocation feed)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -l format -r -f -a "der\t'X.509 SubjectPublicKeyInfo DER (binary; needs --output)'
pem\t'PEM ("BEGIN PUBLIC KEY")'
jwk\t'A JSON Web Key with kid, alg and use'
data-url\t'data:;base64,<DER> as broker.conf\'s tokenPublicKey takes it'"
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from public-key" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from broker-config" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from broker-config" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from broker-config" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from broker-config" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from broker-config" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from broker-config" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from broker-config" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from broker-config" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from broker-config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from broker-config" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from rotate-key" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from rotate-key" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from rotate-key" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from rotate-key" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from rotate-key" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from rotate-key" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from rotate-key" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from rotate-key" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from rotate-key" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from rotate-key" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create an instance with a new signing key, or with a Pulsar cluster\'s existing key'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from help" -f -a "list" -d 'List instances'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from help" -f -a "get" -d 'Show an instance and its signing keys (active and retired)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete an instance (asks you to type its name); refuses while tenants or API keys use it'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from help" -f -a "public-key" -d 'Print or save the active public key (der, pem, jwk or data-url)'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from help" -f -a "broker-config" -d 'Print the broker.conf lines that make a Pulsar broker accept this instance\'s tokens'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from help" -f -a "rotate-key" -d 'Create a new signing key (new kid); the old one is kept as retired'
complete -c tok -n "__fish_tok_using_subcommand instance; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -f -a "show" -d 'Show the org\'s settings'
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -f -a "set-max-token-lifetime" -d 'Set the longest lifetime a new token may have (`none` removes the limit)'
complete -c tok -n "__fish_tok_using_subcommand org; and not __fish_seen_subcommand_from show set-max-token-lifetime help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from show" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from show" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from set-max-token-lifetime" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from set-max-token-lifetime" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from set-max-token-lifetime" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from set-max-token-lifetime" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from set-max-token-lifetime" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from set-max-token-lifetime" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from set-max-token-lifetime" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from set-max-token-lifetime" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from set-max-token-lifetime" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from set-max-token-lifetime" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the org\'s settings'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from help" -f -a "set-max-token-lifetime" -d 'Set the longest lifetime a new token may have (`none` removes the limit)'
complete -c tok -n "__fish_tok_using_subcommand org; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -f -a "list" -d 'List audit records, oldest first'
complete -c tok -n "__fish_tok_using_subcommand audit; and not __fish_seen_subcommand_from list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -l since -d 'Only records from this long ago (7d, 12h) or since an RFC 3339 time' -r
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "list" -d 'List audit records, oldest first'
complete -c tok -n "__fish_tok_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -f -a "create" -d 'Create a user holding the roles given'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -f -a "list" -d 'List users'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -f -a "get" -d 'Show a user'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -f -a "delete" -d 'Delete a user and end its sessions (asks you to type the username)'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -f -a "set-password" -d 'Set a user\'s password; unlocks the account and ends its sessions'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -f -a "grant-role" -d 'Grant a role (name or id) to a user'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -f -a "revoke-role" -d 'Take a role (name or id) from a user (asks you to type the username)'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -f -a "disable" -d 'Disable an account: it cannot log in, and its sessions end at once'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -f -a "enable" -d 'Enable a disabled account'
complete -c tok -n "__fish_tok_using_subcommand user; and not __fish_seen_subcommand_from create list get delete set-password grant-role revoke-role disable enable help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -l role -d 'A role (name or id) to grant; repeat for several' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -l password-stdin -d 'Read the password from stdin instead of a hidden prompt'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from list" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from get" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from get" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from get" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from get" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from get" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from delete" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from delete" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -l password-stdin -d 'Read the password from stdin instead of a hidden prompt'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from set-password" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from grant-role" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from grant-role" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from grant-role" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from grant-role" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from grant-role" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from grant-role" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from grant-role" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from grant-role" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from grant-role" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from grant-role" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from revoke-role" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from revoke-role" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from revoke-role" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from revoke-role" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from revoke-role" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from revoke-role" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from revoke-role" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from revoke-role" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from revoke-role" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from revoke-role" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from disable" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from disable" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from disable" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from disable" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from disable" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from disable" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from disable" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from disable" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from disable" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from enable" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from enable" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from enable" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from enable" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from enable" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from enable" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from enable" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from enable" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from enable" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a user holding the roles given'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "list" -d 'List users'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "get" -d 'Show a user'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a user and end its sessions (asks you to type the username)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "set-password" -d 'Set a user\'s password; unlocks the account and ends its sessions'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "grant-role" -d 'Grant a role (name or id) to a user'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "revoke-role" -d 'Take a role (name or id) from a user (asks you to type the username)'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Disable an account: it cannot log in, and its sessions end at once'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "enable" -d 'Enable a disabled account'
complete -c tok -n "__fish_tok_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -f -a "create" -d 'Create a service account'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -f -a "list" -d 'List service accounts'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -f -a "get" -d 'Show a service account, its roles and its API keys'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -f -a "delete" -d 'Delete a service account and all its API keys (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and not __fish_seen_subcommand_from create list get delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -l role -d 'A role (name or id) it holds; repeat for several' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -l description -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from list" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from get" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from get" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from get" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from get" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from get" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from delete" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from delete" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a service account'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from help" -f -a "list" -d 'List service accounts'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from help" -f -a "get" -d 'Show a service account, its roles and its API keys'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a service account and all its API keys (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand service-account; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -f -a "create" -d 'Create a service account'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -f -a "list" -d 'List service accounts'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -f -a "get" -d 'Show a service account, its roles and its API keys'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -f -a "delete" -d 'Delete a service account and all its API keys (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand sa; and not __fish_seen_subcommand_from create list get delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -l role -d 'A role (name or id) it holds; repeat for several' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -l description -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from list" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from get" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from get" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from get" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from get" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from get" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from delete" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from delete" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a service account'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from help" -f -a "list" -d 'List service accounts'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from help" -f -a "get" -d 'Show a service account, its roles and its API keys'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a service account and all its API keys (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand sa; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -f -a "create" -d 'Create an API key for a service account on an instance; the key is shown only once'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -f -a "list" -d 'List API keys'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -f -a "get" -d 'Show an API key (never the key itself)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -f -a "revoke" -d 'Revoke an API key (asks you to type its name); it stays listed as revoked until purged'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -f -a "delete" -d 'Revoke and remove an API key at once (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and not __fish_seen_subcommand_from create list get revoke delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -l service-account -d 'The service account the key acts as' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -l instance -d 'The instance whose key signs it [default: the org\'s only one]' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -l name -d 'Unique per org [default: <service account>-<6 hex digits>]' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -l description -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -l expires -d '30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never`' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -l service-account -d 'Only this service account\'s keys' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -l instance -d 'Only keys for this instance' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -l status -d 'Only keys with this status' -r -f -a "active\t''
revoked\t''
expired\t''"
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from get" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from get" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from get" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from get" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from get" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from revoke" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from revoke" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from revoke" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from revoke" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from revoke" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from revoke" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from revoke" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from revoke" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from delete" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from delete" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create an API key for a service account on an instance; the key is shown only once'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from help" -f -a "list" -d 'List API keys'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from help" -f -a "get" -d 'Show an API key (never the key itself)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke an API key (asks you to type its name); it stays listed as revoked until purged'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Revoke and remove an API key at once (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand apikey; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -f -a "create" -d 'Create a custom role; it may grant only what you hold yourself'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -f -a "list" -d 'List the built-in roles, then the org\'s custom roles'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -f -a "get" -d 'Show a role and its policy'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -f -a "update" -d 'Change a custom role: the actions or resources given replace the current ones'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -f -a "delete" -d 'Delete a custom role (asks you to type its name); refused while anyone holds it'
complete -c tok -n "__fish_tok_using_subcommand role; and not __fish_seen_subcommand_from create list get update delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -l action -d 'An action the role allows; repeat for several' -r -f -a "org-read\t''
org-write\t''
tenant-read\t''
tenant-write\t''
token-read\t''
token-write\t''
apikey-read\t''
apikey-write\t''
service-account-read\t''
service-account-write\t''
role-read\t''
role-write\t''
user-read\t''
user-write\t''
instance-read\t''
instance-write\t''
usage-read\t''
usage-write\t''
billing-read\t''
billing-write\t''
audit-read\t''
introspect\t''
produce\t''
consume\t''
functions\t''
sources\t''
sinks\t''
packages\t''
db-cql\t''
db-rest\t''
db-read\t''
db-write\t''
db-schema\t''"
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -l resource -d 'A resource it allows them on (drn:tok:<org>…); repeat for several' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -l description -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from list" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from get" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from get" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from get" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from get" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from get" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -l action -d 'The actions it allows (replaces them all); repeat for several' -r -f -a "org-read\t''
org-write\t''
tenant-read\t''
tenant-write\t''
token-read\t''
token-write\t''
apikey-read\t''
apikey-write\t''
service-account-read\t''
service-account-write\t''
role-read\t''
role-write\t''
user-read\t''
user-write\t''
instance-read\t''
instance-write\t''
usage-read\t''
usage-write\t''
billing-read\t''
billing-write\t''
audit-read\t''
introspect\t''
produce\t''
consume\t''
functions\t''
sources\t''
sinks\t''
packages\t''
db-cql\t''
db-rest\t''
db-read\t''
db-write\t''
db-schema\t''"
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -l resource -d 'The resources it allows them on (replaces them all); repeat for several' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -l description -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -l force -d 'Delete it even while users or tokens hold it (they lose it)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a custom role; it may grant only what you hold yourself'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the built-in roles, then the org\'s custom roles'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "get" -d 'Show a role and its policy'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a custom role: the actions or resources given replace the current ones'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a custom role (asks you to type its name); refused while anyone holds it'
complete -c tok -n "__fish_tok_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -f -a "show" -d 'Usage by tenant and day (or month): a table, and on a terminal a bar chart per metric'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -f -a "billing" -d 'A month\'s bill: usage × the rate card, one row per tenant and metric, with totals'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -f -a "rates" -d 'The rate card: the price per unit of each metric, and the currency'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -f -a "import" -d 'Record usage from a file of records or from pulsar-admin stats JSON'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -f -a "collect" -d 'Scrape a broker\'s Prometheus metrics and record per-day increases per tenant'
complete -c tok -n "__fish_tok_using_subcommand usage; and not __fish_seen_subcommand_from show billing rates import collect help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l tenant -d 'Only this tenant' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l since -d 'The last N days up to today (30d, 2w) [default: 30d]' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l from -d 'First day, YYYY-MM-DD (UTC)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l to -d 'Last day, YYYY-MM-DD (UTC) [default: today]' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l metric -d 'Only this metric' -r -f -a "messages_in\t''
messages_out\t''
bytes_in\t''
bytes_out\t''
storage_bytes\t''
tokens_issued\t''
authentications\t''
introspections\t''
api_calls\t''"
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l by -d 'Group by day or by month' -r -f -a "day\t''
month\t''"
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l chart -d 'Draw the bar chart (table output only)' -r -f -a "auto\t'On a terminal, with -o table'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -l month -d 'The month, YYYY-MM (UTC)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -l tenant -d 'Only this tenant' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from billing" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -f -a "show" -d 'Show the rate card'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -f -a "set" -d 'Set prices (METRIC PRICE pairs) and/or the currency'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -f -a "unset" -d 'Stop billing metrics (remove their prices)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from rates" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -l batch-id -d 'The batch id (default: derived from the file\'s content)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -l at -d 'When pulsar-admin stats were taken (RFC 3339) [default: now]' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -l topic -d 'The topic a `topics stats` document is about (persistent://tenant/namespace/topic)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -l namespace -d 'The namespace a `topics stats` document belongs to (tenant/namespace)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -l atomic -d 'Reject the whole file if any record is bad (at most 10,000 records)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -l prometheus -d 'A broker\'s metrics URL, e.g. http://broker:8080/metrics; repeat it for every broker of a cluster, so that storage (served in parts by several brokers) is added up' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -l interval -d 'Time between scrapes (10s at least)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -l state -d 'The state file [default: <data dir>/usage-collect/<hash of the URLs>.json]' -r -F
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -l timeout -d 'How long one scrape may take' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -l once -d 'Scrape once, record, save the state, and exit'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from collect" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from help" -f -a "show" -d 'Usage by tenant and day (or month): a table, and on a terminal a bar chart per metric'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from help" -f -a "billing" -d 'A month\'s bill: usage × the rate card, one row per tenant and metric, with totals'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from help" -f -a "rates" -d 'The rate card: the price per unit of each metric, and the currency'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from help" -f -a "import" -d 'Record usage from a file of records or from pulsar-admin stats JSON'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from help" -f -a "collect" -d 'Scrape a broker\'s Prometheus metrics and record per-day increases per tenant'
complete -c tok -n "__fish_tok_using_subcommand usage; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -f -a "start" -d 'Serve the control plane over HTTP until SIGINT/SIGTERM (in-flight requests finish)'
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -f -a "init" -d 'Create an org, its first instance and its first administrator; prints the credentials once'
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -f -a "migrate-data" -d 'Copy a SQLite database (embedded or single-node) into an empty PostgreSQL database, and verify the copy'
complete -c tok -n "__fish_tok_using_subcommand server; and not __fish_seen_subcommand_from start init migrate-data help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l listen -d 'Address to listen on; beyond loopback only with TLS or --insecure-http' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l database -d 'sqlite://PATH (sqlite:///abs/path or sqlite://relative/path), or postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…] [default: sqlite://<data dir>/server.db]' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l master-key-file -d 'File holding the base64 master key [else TOK_MASTER_KEY]' -r -F
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l tls-cert -d 'PEM certificate chain for HTTPS' -r -F
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l tls-key -d 'PEM private key for HTTPS' -r -F
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l session-ttl -d 'How long a session stays valid after its last use' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l session-max-lifetime -d 'How long after login a session ends however often it is used' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l lockout-threshold -d 'Consecutive failed logins that lock an account' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l lockout-duration -d 'How long a locked account stays locked' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l session-cache -d 'How long a looked-up session is reused before it is read again (`0s`: every request reads it). A session ended on another replica sharing the database stops working here within this time; one ended on this server, at once' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l apikey-retention -d 'How long a revoked API key stays listed (as revoked) before it is purged; its entry in the revocation feed stays at least as long, and until the key expires. Replicas sharing a database take turns at the purge (one run per 10 minutes between them), each with its own value: give them the same' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l meter-flush-interval -d 'How often the control plane\'s own usage counts (tokens issued, authentications, introspections, API calls) are written: a crash loses at most this much of them; a clean stop loses none' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l shutdown-grace -d 'How long in-flight requests may take to finish on shutdown' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l insecure-http -d 'Allow plain HTTP on a non-loopback address (tokens and passwords cross the network in clear)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l dev -d 'Try the API: a temporary database and master key, loopback only, an admin session printed once'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -l database -d 'sqlite://PATH (sqlite:///abs/path or sqlite://relative/path), or postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…] [default: sqlite://<data dir>/server.db]' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -l master-key-file -d 'File holding the base64 master key [else TOK_MASTER_KEY]' -r -F
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -l org -d 'The org to create' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -l admin -d 'The first administrator\'s username' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -l instance -d 'The org\'s first instance' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -l password-stdin -d 'Read the administrator\'s password from stdin instead of generating one'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -l from -d 'The SQLite database to copy: sqlite://PATH' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -l to -d 'The empty PostgreSQL database to copy into: postgres://… (or TOK_DATABASE_URL)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -l verify-only -d 'Only compare the two databases (row counts and checksums); write nothing'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from migrate-data" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "start" -d 'Serve the control plane over HTTP until SIGINT/SIGTERM (in-flight requests finish)'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create an org, its first instance and its first administrator; prints the credentials once'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "migrate-data" -d 'Copy a SQLite database (embedded or single-node) into an empty PostgreSQL database, and verify the copy'
complete -c tok -n "__fish_tok_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand login" -l org -d 'The org you expect to log in to; refused when the account belongs to another' -r
complete -c tok -n "__fish_tok_using_subcommand login" -l username -d 'Username [default: asked]' -r
complete -c tok -n "__fish_tok_using_subcommand login" -l ca-cert -d 'PEM CA certificates to trust for this server (a private CA); remembered in the profile' -r -F
complete -c tok -n "__fish_tok_using_subcommand login" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand login" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand login" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand login" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand login" -l password-stdin -d 'Read the password from stdin instead of a hidden prompt'
complete -c tok -n "__fish_tok_using_subcommand login" -l with-token -d 'Read a session token, an application token or an API key from stdin instead of logging in with a password (for CI)'
complete -c tok -n "__fish_tok_using_subcommand login" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand login" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand login" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand login" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand login" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand logout" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand logout" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand logout" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand logout" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand logout" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand logout" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand logout" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand logout" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand logout" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand whoami" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand whoami" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand whoami" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand whoami" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand whoami" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand whoami" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand whoami" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand whoami" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand whoami" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand whoami" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -f -a "decode" -d 'Show a token\'s header and claims and what they mean; the signature is not checked'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -f -a "verify" -d 'Check a token\'s signature and claims against a key, as a broker would'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -f -a "create" -d 'Mint a token signed with a secret or private key'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -f -a "create-secret-key" -d 'Create a random HMAC secret key (HS256/384/512), as a broker\'s tokenSecretKey'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -f -a "create-key-pair" -d 'Create an RSA or EC key pair: PKCS#8 private key and X.509 public key'
complete -c tok -n "__fish_tok_using_subcommand jwt; and not __fish_seen_subcommand_from decode verify create create-secret-key create-key-pair help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -l file -d 'Read the token from a file' -r -F
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from decode" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l file -d 'Read the token from a file' -r -F
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l secret-key -d 'HMAC secret key (raw bytes), for HS256/384/512 tokens' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l public-key -d 'RSA or EC public key (X.509 DER or PEM), for RS*/ES* tokens' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l jwks -d 'A JSON Web Key Set; the token\'s `kid` picks the key' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l alg -d 'Accept only this algorithm (default: any the key type allows)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l audience -d 'Require this `aud` (a string, or one of the strings of an array)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l issuer -d 'Require this `iss`' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l leeway -d 'Clock skew tolerated on exp and nbf: seconds, or a duration such as 30s or 2m' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l require -d 'A claim that must be present, e.g. `--require exp` (repeatable)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l subject -d 'The `sub` claim: the role a Pulsar broker authorizes' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l secret-key -d 'HMAC secret key (raw bytes, at least 32)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l private-key -d 'RSA (≥ 2048 bits) or EC private key, PKCS#8 DER or PEM' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l alg -d 'Signing algorithm; must fit the key [default: from the key]' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l expires -d 'When the token expires: 30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never`' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l audience -d 'The `aud` claim (a broker with tokenAudience set requires it)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l issuer -d 'The `iss` claim' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l claim -d 'An extra claim, KEY=VALUE; VALUE is parsed as JSON when it can be (true, 42, "x", [1])' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l header -d 'An extra header field, KEY=VALUE (e.g. kid=2026-11), parsed like --claim' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -l alg -d 'Size the key for this algorithm: 32 bytes for HS256, 48 for HS384, 64 for HS512' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -l base64 -d 'Write base64 text to the --output file instead of raw bytes'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -l force -d 'Overwrite an existing file'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-secret-key" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -l alg -d 'RS256, RS384, RS512, ES256, ES384 or ES512' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -l private-key -d 'Where to write the private key (mode 0600)' -r -F
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -l public-key -d 'Where to write the public key' -r -F
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -l format -d 'File encoding' -r -f -a "der\t'Binary DER, as Pulsar writes and reads it'
pem\t'PEM text ("BEGIN PRIVATE KEY" / "BEGIN PUBLIC KEY")'"
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -l force -d 'Overwrite existing files'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from create-key-pair" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from help" -f -a "decode" -d 'Show a token\'s header and claims and what they mean; the signature is not checked'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check a token\'s signature and claims against a key, as a broker would'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from help" -f -a "create" -d 'Mint a token signed with a secret or private key'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from help" -f -a "create-secret-key" -d 'Create a random HMAC secret key (HS256/384/512), as a broker\'s tokenSecretKey'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from help" -f -a "create-key-pair" -d 'Create an RSA or EC key pair: PKCS#8 private key and X.509 public key'
complete -c tok -n "__fish_tok_using_subcommand jwt; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -f -a "list" -d 'List profiles; the current one is marked'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -f -a "show" -d 'Show one profile (default: the one this command would use)'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -f -a "use" -d 'Make a profile the current one (`tok profile use local` returns to the embedded mode)'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -f -a "set" -d 'Create a profile or change its settings: server, org, instance, output'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -f -a "delete" -d 'Delete a profile and its stored credential (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand profile; and not __fish_seen_subcommand_from list show use set delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from list" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from list" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from show" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from show" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from use" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from use" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from use" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from use" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from use" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from use" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from use" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from use" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from use" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from use" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from set" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from set" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from set" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from set" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from set" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from set" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from delete" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from delete" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "list" -d 'List profiles; the current one is marked'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one profile (default: the one this command would use)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "use" -d 'Make a profile the current one (`tok profile use local` returns to the embedded mode)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "set" -d 'Create a profile or change its settings: server, org, instance, output'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a profile and its stored credential (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand completion" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand completion" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand completion" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand completion" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand completion" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand completion" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand completion" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand completion" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand completion" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -l out-dir -d 'Directory that receives man/ and completions/' -r -F
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -l profile -d 'Profile to use for this command only (default: the current profile, see `tok profile use`)' -r
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -s o -l output -d 'Output format for data on stdout: table, json, yaml or csv [default: the profile\'s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)' -r
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -l server -d 'Control-plane server URL for this command (overrides the profile\'s)' -r
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -l color -d 'When to use colours (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t'Colour on a terminal unless `NO_COLOR` is set'
always\t''
never\t''"
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -s y -l yes -d 'Answer yes to confirmation prompts (deletes, revokes, cascades)'
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -l no-input -d 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given'
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -s q -l quiet -d 'Print only data: no progress lines or hints (warnings and errors still go to stderr)'
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -s v -l verbose -d 'Say more about what is happening, on stderr (repeat for more)'
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tok -n "__fish_tok_using_subcommand generate-docs" -s V -l version -d 'Print version'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "tenant" -d 'Pulsar tenants on an instance'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "token" -d 'Streaming tokens (Pulsar JWTs for a tenant) and application tokens, shown once'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "create" -d 'Shortcut for `tok token create`'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "instance" -d 'Instances (Pulsar clusters), their signing keys and broker.conf lines'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "org" -d 'Org settings, such as the maximum token lifetime'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "audit" -d 'The audit trail: every change, who made it and when'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "user" -d 'People who log in to a server with a password, and the roles they hold'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "service-account" -d 'Service accounts: non-human principals that own API keys and carry roles'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "apikey" -d 'API keys: JWTs of a service account for one instance, shown once, immutable'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "role" -d 'Roles: built-in and custom policies of actions on resources'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "usage" -d 'Usage by tenant and day, monthly bills, the rate card; import and collect broker usage'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "server" -d 'Run the control plane over HTTP for a team (`tok server start`, `tok server init`)'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "login" -d 'Log in to a server: the session token goes to the OS keyring, the server to the profile'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "logout" -d 'End the profile\'s session and remove its credential'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "whoami" -d 'Show who the profile acts as: principal, org, server, roles, session expiry'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "jwt" -d 'Decode, verify and mint JWTs, and create keys, offline (replaces `pulsar tokens`)'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "profile" -d 'Manage profiles: which control plane tok talks to, and as whom'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "completion" -d 'Print a shell completion script'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "generate-docs" -d 'Write the man pages and completion scripts into a directory (for packagers)'
complete -c tok -n "__fish_tok_using_subcommand help; and not __fish_seen_subcommand_from tenant token create instance org audit user service-account apikey role usage server login logout whoami jwt profile completion generate-docs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from tenant" -f -a "create" -d 'Create a tenant (Pulsar names: letters, digits, _ - = : .)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from tenant" -f -a "list" -d 'List tenants'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from tenant" -f -a "get" -d 'Show a tenant'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from tenant" -f -a "delete" -d 'Delete a tenant and all its tokens (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "create" -d 'Create a streaming token (--tenant) or an application token (--role); secrets are shown only once'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "list" -d 'List tokens (live ones; --expired and --all show more)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "get" -d 'Show a token\'s metadata and what it may do (never the token itself)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "inspect" -d 'Ask the control plane whether a credential is active, and why not (`tok jwt decode` never asks): streaming tokens, API keys, application and session tokens'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "revocations" -d 'The revocation feed: revoked streaming tokens and API keys, in the order revoked'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "delete" -d 'Revoke a token (asks you to type its name); it stays listed as revoked with --all'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from instance" -f -a "create" -d 'Create an instance with a new signing key, or with a Pulsar cluster\'s existing key'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from instance" -f -a "list" -d 'List instances'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from instance" -f -a "get" -d 'Show an instance and its signing keys (active and retired)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from instance" -f -a "delete" -d 'Delete an instance (asks you to type its name); refuses while tenants or API keys use it'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from instance" -f -a "public-key" -d 'Print or save the active public key (der, pem, jwk or data-url)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from instance" -f -a "broker-config" -d 'Print the broker.conf lines that make a Pulsar broker accept this instance\'s tokens'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from instance" -f -a "rotate-key" -d 'Create a new signing key (new kid); the old one is kept as retired'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from org" -f -a "show" -d 'Show the org\'s settings'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from org" -f -a "set-max-token-lifetime" -d 'Set the longest lifetime a new token may have (`none` removes the limit)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "list" -d 'List audit records, oldest first'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "create" -d 'Create a user holding the roles given'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "list" -d 'List users'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "get" -d 'Show a user'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "delete" -d 'Delete a user and end its sessions (asks you to type the username)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "set-password" -d 'Set a user\'s password; unlocks the account and ends its sessions'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "grant-role" -d 'Grant a role (name or id) to a user'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "revoke-role" -d 'Take a role (name or id) from a user (asks you to type the username)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "disable" -d 'Disable an account: it cannot log in, and its sessions end at once'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "enable" -d 'Enable a disabled account'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from service-account" -f -a "create" -d 'Create a service account'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from service-account" -f -a "list" -d 'List service accounts'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from service-account" -f -a "get" -d 'Show a service account, its roles and its API keys'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from service-account" -f -a "delete" -d 'Delete a service account and all its API keys (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from apikey" -f -a "create" -d 'Create an API key for a service account on an instance; the key is shown only once'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from apikey" -f -a "list" -d 'List API keys'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from apikey" -f -a "get" -d 'Show an API key (never the key itself)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from apikey" -f -a "revoke" -d 'Revoke an API key (asks you to type its name); it stays listed as revoked until purged'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from apikey" -f -a "delete" -d 'Revoke and remove an API key at once (asks you to type its name)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "create" -d 'Create a custom role; it may grant only what you hold yourself'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "list" -d 'List the built-in roles, then the org\'s custom roles'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "get" -d 'Show a role and its policy'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "update" -d 'Change a custom role: the actions or resources given replace the current ones'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "delete" -d 'Delete a custom role (asks you to type its name); refused while anyone holds it'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from usage" -f -a "show" -d 'Usage by tenant and day (or month): a table, and on a terminal a bar chart per metric'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from usage" -f -a "billing" -d 'A month\'s bill: usage × the rate card, one row per tenant and metric, with totals'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from usage" -f -a "rates" -d 'The rate card: the price per unit of each metric, and the currency'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from usage" -f -a "import" -d 'Record usage from a file of records or from pulsar-admin stats JSON'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from usage" -f -a "collect" -d 'Scrape a broker\'s Prometheus metrics and record per-day increases per tenant'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "start" -d 'Serve the control plane over HTTP until SIGINT/SIGTERM (in-flight requests finish)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "init" -d 'Create an org, its first instance and its first administrator; prints the credentials once'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "migrate-data" -d 'Copy a SQLite database (embedded or single-node) into an empty PostgreSQL database, and verify the copy'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from jwt" -f -a "decode" -d 'Show a token\'s header and claims and what they mean; the signature is not checked'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from jwt" -f -a "verify" -d 'Check a token\'s signature and claims against a key, as a broker would'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from jwt" -f -a "create" -d 'Mint a token signed with a secret or private key'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from jwt" -f -a "create-secret-key" -d 'Create a random HMAC secret key (HS256/384/512), as a broker\'s tokenSecretKey'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from jwt" -f -a "create-key-pair" -d 'Create an RSA or EC key pair: PKCS#8 private key and X.509 public key'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "list" -d 'List profiles; the current one is marked'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "show" -d 'Show one profile (default: the one this command would use)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "use" -d 'Make a profile the current one (`tok profile use local` returns to the embedded mode)'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "set" -d 'Create a profile or change its settings: server, org, instance, output'
complete -c tok -n "__fish_tok_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "delete" -d 'Delete a profile and its stored credential (asks you to type its name)'
