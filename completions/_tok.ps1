
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tok' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tok'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'tok' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('tenant', 'tenant', [CompletionResultType]::ParameterValue, 'Pulsar tenants on an instance')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Streaming tokens (Pulsar JWTs for a tenant) and application tokens, shown once')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Shortcut for `tok token create`')
            [CompletionResult]::new('instance', 'instance', [CompletionResultType]::ParameterValue, 'Instances (Pulsar clusters), their signing keys and broker.conf lines')
            [CompletionResult]::new('org', 'org', [CompletionResultType]::ParameterValue, 'Org settings, such as the maximum token lifetime')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'The audit trail: every change, who made it and when')
            [CompletionResult]::new('user', 'user', [CompletionResultType]::ParameterValue, 'People who log in to a server with a password, and the roles they hold')
            [CompletionResult]::new('service-account', 'service-account', [CompletionResultType]::ParameterValue, 'Service accounts: non-human principals that own API keys and carry roles')
            [CompletionResult]::new('sa', 'sa', [CompletionResultType]::ParameterValue, 'Service accounts: non-human principals that own API keys and carry roles')
            [CompletionResult]::new('apikey', 'apikey', [CompletionResultType]::ParameterValue, 'API keys: JWTs of a service account for one instance, shown once, immutable')
            [CompletionResult]::new('role', 'role', [CompletionResultType]::ParameterValue, 'Roles: built-in and custom policies of actions on resources')
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Usage by tenant and day, monthly bills, the rate card; import and collect broker usage')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Run the control plane over HTTP for a team (`tok server start`, `tok server init`)')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Log in to a server: the session token goes to the OS keyring, the server to the profile')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'End the profile''s session and remove its credential')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Show who the profile acts as: principal, org, server, roles, session expiry')
            [CompletionResult]::new('jwt', 'jwt', [CompletionResultType]::ParameterValue, 'Decode, verify and mint JWTs, and create keys, offline (replaces `pulsar tokens`)')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage profiles: which control plane tok talks to, and as whom')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('generate-docs', 'generate-docs', [CompletionResultType]::ParameterValue, 'Write the man pages and completion scripts into a directory (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;tenant' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a tenant (Pulsar names: letters, digits, _ - = : .)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tenants')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a tenant')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a tenant and all its tokens (asks you to type its name)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;tenant;create' {
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'The instance it lives on [default: the profile''s, or the only one]')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;tenant;list' {
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'instance')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;tenant;get' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;tenant;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;tenant;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a tenant (Pulsar names: letters, digits, _ - = : .)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tenants')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a tenant')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a tenant and all its tokens (asks you to type its name)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;tenant;help;create' {
            break
        }
        'tok;tenant;help;list' {
            break
        }
        'tok;tenant;help;get' {
            break
        }
        'tok;tenant;help;delete' {
            break
        }
        'tok;tenant;help;help' {
            break
        }
        'tok;token' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a streaming token (--tenant) or an application token (--role); secrets are shown only once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tokens (live ones; --expired and --all show more)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a token''s metadata and what it may do (never the token itself)')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Ask the control plane whether a credential is active, and why not (`tok jwt decode` never asks): streaming tokens, API keys, application and session tokens')
            [CompletionResult]::new('revocations', 'revocations', [CompletionResultType]::ParameterValue, 'The revocation feed: revoked streaming tokens and API keys, in the order revoked')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Revoke a token (asks you to type its name); it stays listed as revoked with --all')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token (asks you to type its name); it stays listed as revoked with --all')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;token;create' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'The tenant a streaming token is for; leave out (and give --role) for an application token')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'A role (name or id) the token carries; repeat for several. Required for an application token')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Unique per tenant [default: <tenant>-<6 hex digits>]')
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'The `sub` claim, the role Pulsar authorizes [default: the token''s name]')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, '30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never` [default: 30d for a streaming token, never for an application token]')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;token;list' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'tenant')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Only one kind of token')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--expired', '--expired', [CompletionResultType]::ParameterName, 'Include expired tokens')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Include expired and revoked tokens')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;token;get' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'The streaming token''s tenant; leave out for an application token')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;token;inspect' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read the token from a file')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;token;revocations' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'The next_cursor of a previous answer [default: from the beginning]')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many entries')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;token;delete' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'The streaming token''s tenant; leave out for an application token')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;token;revoke' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'The streaming token''s tenant; leave out for an application token')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;token;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a streaming token (--tenant) or an application token (--role); secrets are shown only once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tokens (live ones; --expired and --all show more)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a token''s metadata and what it may do (never the token itself)')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Ask the control plane whether a credential is active, and why not (`tok jwt decode` never asks): streaming tokens, API keys, application and session tokens')
            [CompletionResult]::new('revocations', 'revocations', [CompletionResultType]::ParameterValue, 'The revocation feed: revoked streaming tokens and API keys, in the order revoked')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Revoke a token (asks you to type its name); it stays listed as revoked with --all')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;token;help;create' {
            break
        }
        'tok;token;help;list' {
            break
        }
        'tok;token;help;get' {
            break
        }
        'tok;token;help;inspect' {
            break
        }
        'tok;token;help;revocations' {
            break
        }
        'tok;token;help;delete' {
            break
        }
        'tok;token;help;help' {
            break
        }
        'tok;create' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'The tenant a streaming token is for; leave out (and give --role) for an application token')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'A role (name or id) the token carries; repeat for several. Required for an application token')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Unique per tenant [default: <tenant>-<6 hex digits>]')
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'The `sub` claim, the role Pulsar authorizes [default: the token''s name]')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, '30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never` [default: 30d for a streaming token, never for an application token]')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;instance' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an instance with a new signing key, or with a Pulsar cluster''s existing key')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List instances')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show an instance and its signing keys (active and retired)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete an instance (asks you to type its name); refuses while tenants or API keys use it')
            [CompletionResult]::new('public-key', 'public-key', [CompletionResultType]::ParameterValue, 'Print or save the active public key (der, pem, jwk or data-url)')
            [CompletionResult]::new('broker-config', 'broker-config', [CompletionResultType]::ParameterValue, 'Print the broker.conf lines that make a Pulsar broker accept this instance''s tokens')
            [CompletionResult]::new('rotate-key', 'rotate-key', [CompletionResultType]::ParameterValue, 'Create a new signing key (new kid); the old one is kept as retired')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;instance;create' {
            [CompletionResult]::new('--alg', '--alg', [CompletionResultType]::ParameterName, 'Signing algorithm [default: RS256, or what an imported key implies]')
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'The `aud` every token for this instance carries [default: urn:tok:<org>:<name>]')
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'The `iss` every token for this instance carries')
            [CompletionResult]::new('--private-key', '--private-key', [CompletionResultType]::ParameterName, 'Keep the cluster''s RSA/EC private key (KEYREF: file:///…, data:;base64,…, path, base64)')
            [CompletionResult]::new('--secret-key', '--secret-key', [CompletionResultType]::ParameterName, 'Keep the cluster''s HMAC secret key (KEYREF)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;instance;list' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;instance;get' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;instance;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--cascade', '--cascade', [CompletionResultType]::ParameterName, 'Also delete its tenants, their tokens and the API keys for it (each live one goes into the revocation feed)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;instance;public-key' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'format')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;instance;broker-config' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;instance;rotate-key' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;instance;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an instance with a new signing key, or with a Pulsar cluster''s existing key')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List instances')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show an instance and its signing keys (active and retired)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete an instance (asks you to type its name); refuses while tenants or API keys use it')
            [CompletionResult]::new('public-key', 'public-key', [CompletionResultType]::ParameterValue, 'Print or save the active public key (der, pem, jwk or data-url)')
            [CompletionResult]::new('broker-config', 'broker-config', [CompletionResultType]::ParameterValue, 'Print the broker.conf lines that make a Pulsar broker accept this instance''s tokens')
            [CompletionResult]::new('rotate-key', 'rotate-key', [CompletionResultType]::ParameterValue, 'Create a new signing key (new kid); the old one is kept as retired')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;instance;help;create' {
            break
        }
        'tok;instance;help;list' {
            break
        }
        'tok;instance;help;get' {
            break
        }
        'tok;instance;help;delete' {
            break
        }
        'tok;instance;help;public-key' {
            break
        }
        'tok;instance;help;broker-config' {
            break
        }
        'tok;instance;help;rotate-key' {
            break
        }
        'tok;instance;help;help' {
            break
        }
        'tok;org' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the org''s settings')
            [CompletionResult]::new('set-max-token-lifetime', 'set-max-token-lifetime', [CompletionResultType]::ParameterValue, 'Set the longest lifetime a new token may have (`none` removes the limit)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;org;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;org;set-max-token-lifetime' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;org;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the org''s settings')
            [CompletionResult]::new('set-max-token-lifetime', 'set-max-token-lifetime', [CompletionResultType]::ParameterValue, 'Set the longest lifetime a new token may have (`none` removes the limit)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;org;help;show' {
            break
        }
        'tok;org;help;set-max-token-lifetime' {
            break
        }
        'tok;org;help;help' {
            break
        }
        'tok;audit' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List audit records, oldest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;audit;list' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only records from this long ago (7d, 12h) or since an RFC 3339 time')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;audit;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List audit records, oldest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;audit;help;list' {
            break
        }
        'tok;audit;help;help' {
            break
        }
        'tok;user' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a user holding the roles given')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List users')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a user')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a user and end its sessions (asks you to type the username)')
            [CompletionResult]::new('set-password', 'set-password', [CompletionResultType]::ParameterValue, 'Set a user''s password; unlocks the account and ends its sessions')
            [CompletionResult]::new('grant-role', 'grant-role', [CompletionResultType]::ParameterValue, 'Grant a role (name or id) to a user')
            [CompletionResult]::new('revoke-role', 'revoke-role', [CompletionResultType]::ParameterValue, 'Take a role (name or id) from a user (asks you to type the username)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Disable an account: it cannot log in, and its sessions end at once')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Enable a disabled account')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;user;create' {
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'A role (name or id) to grant; repeat for several')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from stdin instead of a hidden prompt')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;user;list' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;user;get' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;user;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;user;set-password' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from stdin instead of a hidden prompt')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;user;grant-role' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;user;revoke-role' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;user;disable' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;user;enable' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;user;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a user holding the roles given')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List users')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a user')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a user and end its sessions (asks you to type the username)')
            [CompletionResult]::new('set-password', 'set-password', [CompletionResultType]::ParameterValue, 'Set a user''s password; unlocks the account and ends its sessions')
            [CompletionResult]::new('grant-role', 'grant-role', [CompletionResultType]::ParameterValue, 'Grant a role (name or id) to a user')
            [CompletionResult]::new('revoke-role', 'revoke-role', [CompletionResultType]::ParameterValue, 'Take a role (name or id) from a user (asks you to type the username)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Disable an account: it cannot log in, and its sessions end at once')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Enable a disabled account')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;user;help;create' {
            break
        }
        'tok;user;help;list' {
            break
        }
        'tok;user;help;get' {
            break
        }
        'tok;user;help;delete' {
            break
        }
        'tok;user;help;set-password' {
            break
        }
        'tok;user;help;grant-role' {
            break
        }
        'tok;user;help;revoke-role' {
            break
        }
        'tok;user;help;disable' {
            break
        }
        'tok;user;help;enable' {
            break
        }
        'tok;user;help;help' {
            break
        }
        'tok;service-account' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a service account')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List service accounts')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a service account, its roles and its API keys')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a service account and all its API keys (asks you to type its name)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;sa' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a service account')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List service accounts')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a service account, its roles and its API keys')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a service account and all its API keys (asks you to type its name)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;service-account;create' {
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'A role (name or id) it holds; repeat for several')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;sa;create' {
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'A role (name or id) it holds; repeat for several')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;service-account;list' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;sa;list' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;service-account;get' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;sa;get' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;service-account;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;sa;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;service-account;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a service account')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List service accounts')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a service account, its roles and its API keys')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a service account and all its API keys (asks you to type its name)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;service-account;help;create' {
            break
        }
        'tok;service-account;help;list' {
            break
        }
        'tok;service-account;help;get' {
            break
        }
        'tok;service-account;help;delete' {
            break
        }
        'tok;service-account;help;help' {
            break
        }
        'tok;sa;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a service account')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List service accounts')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a service account, its roles and its API keys')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a service account and all its API keys (asks you to type its name)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;sa;help;create' {
            break
        }
        'tok;sa;help;list' {
            break
        }
        'tok;sa;help;get' {
            break
        }
        'tok;sa;help;delete' {
            break
        }
        'tok;sa;help;help' {
            break
        }
        'tok;apikey' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an API key for a service account on an instance; the key is shown only once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List API keys')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show an API key (never the key itself)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an API key (asks you to type its name); it stays listed as revoked until purged')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Revoke and remove an API key at once (asks you to type its name)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;apikey;create' {
            [CompletionResult]::new('--service-account', '--service-account', [CompletionResultType]::ParameterName, 'The service account the key acts as')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'The instance whose key signs it [default: the org''s only one]')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Unique per org [default: <service account>-<6 hex digits>]')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, '30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never`')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;apikey;list' {
            [CompletionResult]::new('--service-account', '--service-account', [CompletionResultType]::ParameterName, 'Only this service account''s keys')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'Only keys for this instance')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only keys with this status')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;apikey;get' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;apikey;revoke' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;apikey;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;apikey;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an API key for a service account on an instance; the key is shown only once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List API keys')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show an API key (never the key itself)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an API key (asks you to type its name); it stays listed as revoked until purged')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Revoke and remove an API key at once (asks you to type its name)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;apikey;help;create' {
            break
        }
        'tok;apikey;help;list' {
            break
        }
        'tok;apikey;help;get' {
            break
        }
        'tok;apikey;help;revoke' {
            break
        }
        'tok;apikey;help;delete' {
            break
        }
        'tok;apikey;help;help' {
            break
        }
        'tok;role' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a custom role; it may grant only what you hold yourself')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the built-in roles, then the org''s custom roles')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a role and its policy')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a custom role: the actions or resources given replace the current ones')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a custom role (asks you to type its name); refused while anyone holds it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;role;create' {
            [CompletionResult]::new('--action', '--action', [CompletionResultType]::ParameterName, 'An action the role allows; repeat for several')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'A resource it allows them on (drn:tok:<org>…); repeat for several')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;role;list' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;role;get' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;role;update' {
            [CompletionResult]::new('--action', '--action', [CompletionResultType]::ParameterName, 'The actions it allows (replaces them all); repeat for several')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'The resources it allows them on (replaces them all); repeat for several')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'description')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;role;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Delete it even while users or tokens hold it (they lose it)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;role;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a custom role; it may grant only what you hold yourself')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the built-in roles, then the org''s custom roles')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a role and its policy')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a custom role: the actions or resources given replace the current ones')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a custom role (asks you to type its name); refused while anyone holds it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;role;help;create' {
            break
        }
        'tok;role;help;list' {
            break
        }
        'tok;role;help;get' {
            break
        }
        'tok;role;help;update' {
            break
        }
        'tok;role;help;delete' {
            break
        }
        'tok;role;help;help' {
            break
        }
        'tok;usage' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Usage by tenant and day (or month): a table, and on a terminal a bar chart per metric')
            [CompletionResult]::new('billing', 'billing', [CompletionResultType]::ParameterValue, 'A month''s bill: usage × the rate card, one row per tenant and metric, with totals')
            [CompletionResult]::new('rates', 'rates', [CompletionResultType]::ParameterValue, 'The rate card: the price per unit of each metric, and the currency')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Record usage from a file of records or from pulsar-admin stats JSON')
            [CompletionResult]::new('collect', 'collect', [CompletionResultType]::ParameterValue, 'Scrape a broker''s Prometheus metrics and record per-day increases per tenant')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;usage;show' {
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only this tenant')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'The last N days up to today (30d, 2w) [default: 30d]')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First day, YYYY-MM-DD (UTC)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last day, YYYY-MM-DD (UTC) [default: today]')
            [CompletionResult]::new('--metric', '--metric', [CompletionResultType]::ParameterName, 'Only this metric')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Group by day or by month')
            [CompletionResult]::new('--chart', '--chart', [CompletionResultType]::ParameterName, 'Draw the bar chart (table output only)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;usage;billing' {
            [CompletionResult]::new('--month', '--month', [CompletionResultType]::ParameterName, 'The month, YYYY-MM (UTC)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only this tenant')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;usage;rates' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the rate card')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set prices (METRIC PRICE pairs) and/or the currency')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Stop billing metrics (remove their prices)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;usage;rates;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;usage;rates;set' {
            [CompletionResult]::new('--currency', '--currency', [CompletionResultType]::ParameterName, 'ISO 4217 currency code, e.g. EUR (amounts are rounded to its minor units)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;usage;rates;unset' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;usage;rates;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the rate card')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set prices (METRIC PRICE pairs) and/or the currency')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Stop billing metrics (remove their prices)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;usage;rates;help;show' {
            break
        }
        'tok;usage;rates;help;set' {
            break
        }
        'tok;usage;rates;help;unset' {
            break
        }
        'tok;usage;rates;help;help' {
            break
        }
        'tok;usage;import' {
            [CompletionResult]::new('--batch-id', '--batch-id', [CompletionResultType]::ParameterName, 'The batch id (default: derived from the file''s content)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'When pulsar-admin stats were taken (RFC 3339) [default: now]')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'The topic a `topics stats` document is about (persistent://tenant/namespace/topic)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace a `topics stats` document belongs to (tenant/namespace)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--atomic', '--atomic', [CompletionResultType]::ParameterName, 'Reject the whole file if any record is bad (at most 10,000 records)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;usage;collect' {
            [CompletionResult]::new('--prometheus', '--prometheus', [CompletionResultType]::ParameterName, 'A broker''s metrics URL, e.g. http://broker:8080/metrics; repeat it for every broker of a cluster, so that storage (served in parts by several brokers) is added up')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between scrapes (10s at least)')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The state file [default: <data dir>/usage-collect/<hash of the URLs>.json]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long one scrape may take')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Scrape once, record, save the state, and exit')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;usage;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Usage by tenant and day (or month): a table, and on a terminal a bar chart per metric')
            [CompletionResult]::new('billing', 'billing', [CompletionResultType]::ParameterValue, 'A month''s bill: usage × the rate card, one row per tenant and metric, with totals')
            [CompletionResult]::new('rates', 'rates', [CompletionResultType]::ParameterValue, 'The rate card: the price per unit of each metric, and the currency')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Record usage from a file of records or from pulsar-admin stats JSON')
            [CompletionResult]::new('collect', 'collect', [CompletionResultType]::ParameterValue, 'Scrape a broker''s Prometheus metrics and record per-day increases per tenant')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;usage;help;show' {
            break
        }
        'tok;usage;help;billing' {
            break
        }
        'tok;usage;help;rates' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the rate card')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set prices (METRIC PRICE pairs) and/or the currency')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Stop billing metrics (remove their prices)')
            break
        }
        'tok;usage;help;rates;show' {
            break
        }
        'tok;usage;help;rates;set' {
            break
        }
        'tok;usage;help;rates;unset' {
            break
        }
        'tok;usage;help;import' {
            break
        }
        'tok;usage;help;collect' {
            break
        }
        'tok;usage;help;help' {
            break
        }
        'tok;server' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Serve the control plane over HTTP until SIGINT/SIGTERM (in-flight requests finish)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create an org, its first instance and its first administrator; prints the credentials once')
            [CompletionResult]::new('migrate-data', 'migrate-data', [CompletionResultType]::ParameterValue, 'Copy a SQLite database (embedded or single-node) into an empty PostgreSQL database, and verify the copy')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;server;start' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on; beyond loopback only with TLS or --insecure-http')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite://PATH (sqlite:///abs/path or sqlite://relative/path), or postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…] [default: sqlite://<data dir>/server.db]')
            [CompletionResult]::new('--master-key-file', '--master-key-file', [CompletionResultType]::ParameterName, 'File holding the base64 master key [else TOK_MASTER_KEY]')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'PEM certificate chain for HTTPS')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'PEM private key for HTTPS')
            [CompletionResult]::new('--session-ttl', '--session-ttl', [CompletionResultType]::ParameterName, 'How long a session stays valid after its last use')
            [CompletionResult]::new('--session-max-lifetime', '--session-max-lifetime', [CompletionResultType]::ParameterName, 'How long after login a session ends however often it is used')
            [CompletionResult]::new('--lockout-threshold', '--lockout-threshold', [CompletionResultType]::ParameterName, 'Consecutive failed logins that lock an account')
            [CompletionResult]::new('--lockout-duration', '--lockout-duration', [CompletionResultType]::ParameterName, 'How long a locked account stays locked')
            [CompletionResult]::new('--session-cache', '--session-cache', [CompletionResultType]::ParameterName, 'How long a looked-up session is reused before it is read again (`0s`: every request reads it). A session ended on another replica sharing the database stops working here within this time; one ended on this server, at once')
            [CompletionResult]::new('--apikey-retention', '--apikey-retention', [CompletionResultType]::ParameterName, 'How long a revoked API key stays listed (as revoked) before it is purged; its entry in the revocation feed stays at least as long, and until the key expires. Replicas sharing a database take turns at the purge (one run per 10 minutes between them), each with its own value: give them the same')
            [CompletionResult]::new('--meter-flush-interval', '--meter-flush-interval', [CompletionResultType]::ParameterName, 'How often the control plane''s own usage counts (tokens issued, authentications, introspections, API calls) are written: a crash loses at most this much of them; a clean stop loses none')
            [CompletionResult]::new('--shutdown-grace', '--shutdown-grace', [CompletionResultType]::ParameterName, 'How long in-flight requests may take to finish on shutdown')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format on stderr')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--insecure-http', '--insecure-http', [CompletionResultType]::ParameterName, 'Allow plain HTTP on a non-loopback address (tokens and passwords cross the network in clear)')
            [CompletionResult]::new('--dev', '--dev', [CompletionResultType]::ParameterName, 'Try the API: a temporary database and master key, loopback only, an admin session printed once')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;server;init' {
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite://PATH (sqlite:///abs/path or sqlite://relative/path), or postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…] [default: sqlite://<data dir>/server.db]')
            [CompletionResult]::new('--master-key-file', '--master-key-file', [CompletionResultType]::ParameterName, 'File holding the base64 master key [else TOK_MASTER_KEY]')
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'The org to create')
            [CompletionResult]::new('--admin', '--admin', [CompletionResultType]::ParameterName, 'The first administrator''s username')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'The org''s first instance')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the administrator''s password from stdin instead of generating one')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;server;migrate-data' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The SQLite database to copy: sqlite://PATH')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The empty PostgreSQL database to copy into: postgres://… (or TOK_DATABASE_URL)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--verify-only', '--verify-only', [CompletionResultType]::ParameterName, 'Only compare the two databases (row counts and checksums); write nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;server;help' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Serve the control plane over HTTP until SIGINT/SIGTERM (in-flight requests finish)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create an org, its first instance and its first administrator; prints the credentials once')
            [CompletionResult]::new('migrate-data', 'migrate-data', [CompletionResultType]::ParameterValue, 'Copy a SQLite database (embedded or single-node) into an empty PostgreSQL database, and verify the copy')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;server;help;start' {
            break
        }
        'tok;server;help;init' {
            break
        }
        'tok;server;help;migrate-data' {
            break
        }
        'tok;server;help;help' {
            break
        }
        'tok;login' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'The org you expect to log in to; refused when the account belongs to another')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Username [default: asked]')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'PEM CA certificates to trust for this server (a private CA); remembered in the profile')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from stdin instead of a hidden prompt')
            [CompletionResult]::new('--with-token', '--with-token', [CompletionResultType]::ParameterName, 'Read a session token, an application token or an API key from stdin instead of logging in with a password (for CI)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;logout' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;whoami' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;jwt' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Show a token''s header and claims and what they mean; the signature is not checked')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a token''s signature and claims against a key, as a broker would')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Mint a token signed with a secret or private key')
            [CompletionResult]::new('create-secret-key', 'create-secret-key', [CompletionResultType]::ParameterValue, 'Create a random HMAC secret key (HS256/384/512), as a broker''s tokenSecretKey')
            [CompletionResult]::new('create-key-pair', 'create-key-pair', [CompletionResultType]::ParameterValue, 'Create an RSA or EC key pair: PKCS#8 private key and X.509 public key')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;jwt;decode' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read the token from a file')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;jwt;verify' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read the token from a file')
            [CompletionResult]::new('--secret-key', '--secret-key', [CompletionResultType]::ParameterName, 'HMAC secret key (raw bytes), for HS256/384/512 tokens')
            [CompletionResult]::new('--public-key', '--public-key', [CompletionResultType]::ParameterName, 'RSA or EC public key (X.509 DER or PEM), for RS*/ES* tokens')
            [CompletionResult]::new('--jwks', '--jwks', [CompletionResultType]::ParameterName, 'A JSON Web Key Set; the token''s `kid` picks the key')
            [CompletionResult]::new('--alg', '--alg', [CompletionResultType]::ParameterName, 'Accept only this algorithm (default: any the key type allows)')
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'Require this `aud` (a string, or one of the strings of an array)')
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'Require this `iss`')
            [CompletionResult]::new('--leeway', '--leeway', [CompletionResultType]::ParameterName, 'Clock skew tolerated on exp and nbf: seconds, or a duration such as 30s or 2m')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'A claim that must be present, e.g. `--require exp` (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;jwt;create' {
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'The `sub` claim: the role a Pulsar broker authorizes')
            [CompletionResult]::new('--secret-key', '--secret-key', [CompletionResultType]::ParameterName, 'HMAC secret key (raw bytes, at least 32)')
            [CompletionResult]::new('--private-key', '--private-key', [CompletionResultType]::ParameterName, 'RSA (≥ 2048 bits) or EC private key, PKCS#8 DER or PEM')
            [CompletionResult]::new('--alg', '--alg', [CompletionResultType]::ParameterName, 'Signing algorithm; must fit the key [default: from the key]')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'When the token expires: 30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never`')
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'The `aud` claim (a broker with tokenAudience set requires it)')
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'The `iss` claim')
            [CompletionResult]::new('--claim', '--claim', [CompletionResultType]::ParameterName, 'An extra claim, KEY=VALUE; VALUE is parsed as JSON when it can be (true, 42, "x", [1])')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'An extra header field, KEY=VALUE (e.g. kid=2026-11), parsed like --claim')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;jwt;create-secret-key' {
            [CompletionResult]::new('--alg', '--alg', [CompletionResultType]::ParameterName, 'Size the key for this algorithm: 32 bytes for HS256, 48 for HS384, 64 for HS512')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--base64', '--base64', [CompletionResultType]::ParameterName, 'Write base64 text to the --output file instead of raw bytes')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing file')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;jwt;create-key-pair' {
            [CompletionResult]::new('--alg', '--alg', [CompletionResultType]::ParameterName, 'RS256, RS384, RS512, ES256, ES384 or ES512')
            [CompletionResult]::new('--private-key', '--private-key', [CompletionResultType]::ParameterName, 'Where to write the private key (mode 0600)')
            [CompletionResult]::new('--public-key', '--public-key', [CompletionResultType]::ParameterName, 'Where to write the public key')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'File encoding')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite existing files')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;jwt;help' {
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Show a token''s header and claims and what they mean; the signature is not checked')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a token''s signature and claims against a key, as a broker would')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Mint a token signed with a secret or private key')
            [CompletionResult]::new('create-secret-key', 'create-secret-key', [CompletionResultType]::ParameterValue, 'Create a random HMAC secret key (HS256/384/512), as a broker''s tokenSecretKey')
            [CompletionResult]::new('create-key-pair', 'create-key-pair', [CompletionResultType]::ParameterValue, 'Create an RSA or EC key pair: PKCS#8 private key and X.509 public key')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;jwt;help;decode' {
            break
        }
        'tok;jwt;help;verify' {
            break
        }
        'tok;jwt;help;create' {
            break
        }
        'tok;jwt;help;create-secret-key' {
            break
        }
        'tok;jwt;help;create-key-pair' {
            break
        }
        'tok;jwt;help;help' {
            break
        }
        'tok;profile' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles; the current one is marked')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile (default: the one this command would use)')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make a profile the current one (`tok profile use local` returns to the embedded mode)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Create a profile or change its settings: server, org, instance, output')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a profile and its stored credential (asks you to type its name)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;profile;list' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;profile;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;profile;use' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;profile;set' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;profile;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;profile;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles; the current one is marked')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile (default: the one this command would use)')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make a profile the current one (`tok profile use local` returns to the embedded mode)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Create a profile or change its settings: server, org, instance, output')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a profile and its stored credential (asks you to type its name)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;profile;help;list' {
            break
        }
        'tok;profile;help;show' {
            break
        }
        'tok;profile;help;use' {
            break
        }
        'tok;profile;help;set' {
            break
        }
        'tok;profile;help;delete' {
            break
        }
        'tok;profile;help;help' {
            break
        }
        'tok;completion' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;generate-docs' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Directory that receives man/ and completions/')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use for this command only (default: the current profile, see `tok profile use`)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for data on stdout: table, json, yaml or csv [default: the profile''s, else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Control-plane server URL for this command (overrides the profile''s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured by `auto`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmation prompts (deletes, revokes, cascades)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data: no progress lines or hints (warnings and errors still go to stderr)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening, on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'tok;help' {
            [CompletionResult]::new('tenant', 'tenant', [CompletionResultType]::ParameterValue, 'Pulsar tenants on an instance')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Streaming tokens (Pulsar JWTs for a tenant) and application tokens, shown once')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Shortcut for `tok token create`')
            [CompletionResult]::new('instance', 'instance', [CompletionResultType]::ParameterValue, 'Instances (Pulsar clusters), their signing keys and broker.conf lines')
            [CompletionResult]::new('org', 'org', [CompletionResultType]::ParameterValue, 'Org settings, such as the maximum token lifetime')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'The audit trail: every change, who made it and when')
            [CompletionResult]::new('user', 'user', [CompletionResultType]::ParameterValue, 'People who log in to a server with a password, and the roles they hold')
            [CompletionResult]::new('service-account', 'service-account', [CompletionResultType]::ParameterValue, 'Service accounts: non-human principals that own API keys and carry roles')
            [CompletionResult]::new('apikey', 'apikey', [CompletionResultType]::ParameterValue, 'API keys: JWTs of a service account for one instance, shown once, immutable')
            [CompletionResult]::new('role', 'role', [CompletionResultType]::ParameterValue, 'Roles: built-in and custom policies of actions on resources')
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Usage by tenant and day, monthly bills, the rate card; import and collect broker usage')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Run the control plane over HTTP for a team (`tok server start`, `tok server init`)')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Log in to a server: the session token goes to the OS keyring, the server to the profile')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'End the profile''s session and remove its credential')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Show who the profile acts as: principal, org, server, roles, session expiry')
            [CompletionResult]::new('jwt', 'jwt', [CompletionResultType]::ParameterValue, 'Decode, verify and mint JWTs, and create keys, offline (replaces `pulsar tokens`)')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage profiles: which control plane tok talks to, and as whom')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('generate-docs', 'generate-docs', [CompletionResultType]::ParameterValue, 'Write the man pages and completion scripts into a directory (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'tok;help;tenant' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a tenant (Pulsar names: letters, digits, _ - = : .)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tenants')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a tenant')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a tenant and all its tokens (asks you to type its name)')
            break
        }
        'tok;help;tenant;create' {
            break
        }
        'tok;help;tenant;list' {
            break
        }
        'tok;help;tenant;get' {
            break
        }
        'tok;help;tenant;delete' {
            break
        }
        'tok;help;token' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a streaming token (--tenant) or an application token (--role); secrets are shown only once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tokens (live ones; --expired and --all show more)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a token''s metadata and what it may do (never the token itself)')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Ask the control plane whether a credential is active, and why not (`tok jwt decode` never asks): streaming tokens, API keys, application and session tokens')
            [CompletionResult]::new('revocations', 'revocations', [CompletionResultType]::ParameterValue, 'The revocation feed: revoked streaming tokens and API keys, in the order revoked')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Revoke a token (asks you to type its name); it stays listed as revoked with --all')
            break
        }
        'tok;help;token;create' {
            break
        }
        'tok;help;token;list' {
            break
        }
        'tok;help;token;get' {
            break
        }
        'tok;help;token;inspect' {
            break
        }
        'tok;help;token;revocations' {
            break
        }
        'tok;help;token;delete' {
            break
        }
        'tok;help;create' {
            break
        }
        'tok;help;instance' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an instance with a new signing key, or with a Pulsar cluster''s existing key')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List instances')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show an instance and its signing keys (active and retired)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete an instance (asks you to type its name); refuses while tenants or API keys use it')
            [CompletionResult]::new('public-key', 'public-key', [CompletionResultType]::ParameterValue, 'Print or save the active public key (der, pem, jwk or data-url)')
            [CompletionResult]::new('broker-config', 'broker-config', [CompletionResultType]::ParameterValue, 'Print the broker.conf lines that make a Pulsar broker accept this instance''s tokens')
            [CompletionResult]::new('rotate-key', 'rotate-key', [CompletionResultType]::ParameterValue, 'Create a new signing key (new kid); the old one is kept as retired')
            break
        }
        'tok;help;instance;create' {
            break
        }
        'tok;help;instance;list' {
            break
        }
        'tok;help;instance;get' {
            break
        }
        'tok;help;instance;delete' {
            break
        }
        'tok;help;instance;public-key' {
            break
        }
        'tok;help;instance;broker-config' {
            break
        }
        'tok;help;instance;rotate-key' {
            break
        }
        'tok;help;org' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the org''s settings')
            [CompletionResult]::new('set-max-token-lifetime', 'set-max-token-lifetime', [CompletionResultType]::ParameterValue, 'Set the longest lifetime a new token may have (`none` removes the limit)')
            break
        }
        'tok;help;org;show' {
            break
        }
        'tok;help;org;set-max-token-lifetime' {
            break
        }
        'tok;help;audit' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List audit records, oldest first')
            break
        }
        'tok;help;audit;list' {
            break
        }
        'tok;help;user' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a user holding the roles given')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List users')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a user')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a user and end its sessions (asks you to type the username)')
            [CompletionResult]::new('set-password', 'set-password', [CompletionResultType]::ParameterValue, 'Set a user''s password; unlocks the account and ends its sessions')
            [CompletionResult]::new('grant-role', 'grant-role', [CompletionResultType]::ParameterValue, 'Grant a role (name or id) to a user')
            [CompletionResult]::new('revoke-role', 'revoke-role', [CompletionResultType]::ParameterValue, 'Take a role (name or id) from a user (asks you to type the username)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Disable an account: it cannot log in, and its sessions end at once')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Enable a disabled account')
            break
        }
        'tok;help;user;create' {
            break
        }
        'tok;help;user;list' {
            break
        }
        'tok;help;user;get' {
            break
        }
        'tok;help;user;delete' {
            break
        }
        'tok;help;user;set-password' {
            break
        }
        'tok;help;user;grant-role' {
            break
        }
        'tok;help;user;revoke-role' {
            break
        }
        'tok;help;user;disable' {
            break
        }
        'tok;help;user;enable' {
            break
        }
        'tok;help;service-account' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a service account')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List service accounts')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a service account, its roles and its API keys')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a service account and all its API keys (asks you to type its name)')
            break
        }
        'tok;help;service-account;create' {
            break
        }
        'tok;help;service-account;list' {
            break
        }
        'tok;help;service-account;get' {
            break
        }
        'tok;help;service-account;delete' {
            break
        }
        'tok;help;apikey' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an API key for a service account on an instance; the key is shown only once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List API keys')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show an API key (never the key itself)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an API key (asks you to type its name); it stays listed as revoked until purged')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Revoke and remove an API key at once (asks you to type its name)')
            break
        }
        'tok;help;apikey;create' {
            break
        }
        'tok;help;apikey;list' {
            break
        }
        'tok;help;apikey;get' {
            break
        }
        'tok;help;apikey;revoke' {
            break
        }
        'tok;help;apikey;delete' {
            break
        }
        'tok;help;role' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a custom role; it may grant only what you hold yourself')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the built-in roles, then the org''s custom roles')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show a role and its policy')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a custom role: the actions or resources given replace the current ones')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a custom role (asks you to type its name); refused while anyone holds it')
            break
        }
        'tok;help;role;create' {
            break
        }
        'tok;help;role;list' {
            break
        }
        'tok;help;role;get' {
            break
        }
        'tok;help;role;update' {
            break
        }
        'tok;help;role;delete' {
            break
        }
        'tok;help;usage' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Usage by tenant and day (or month): a table, and on a terminal a bar chart per metric')
            [CompletionResult]::new('billing', 'billing', [CompletionResultType]::ParameterValue, 'A month''s bill: usage × the rate card, one row per tenant and metric, with totals')
            [CompletionResult]::new('rates', 'rates', [CompletionResultType]::ParameterValue, 'The rate card: the price per unit of each metric, and the currency')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Record usage from a file of records or from pulsar-admin stats JSON')
            [CompletionResult]::new('collect', 'collect', [CompletionResultType]::ParameterValue, 'Scrape a broker''s Prometheus metrics and record per-day increases per tenant')
            break
        }
        'tok;help;usage;show' {
            break
        }
        'tok;help;usage;billing' {
            break
        }
        'tok;help;usage;rates' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the rate card')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set prices (METRIC PRICE pairs) and/or the currency')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Stop billing metrics (remove their prices)')
            break
        }
        'tok;help;usage;rates;show' {
            break
        }
        'tok;help;usage;rates;set' {
            break
        }
        'tok;help;usage;rates;unset' {
            break
        }
        'tok;help;usage;import' {
            break
        }
        'tok;help;usage;collect' {
            break
        }
        'tok;help;server' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Serve the control plane over HTTP until SIGINT/SIGTERM (in-flight requests finish)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create an org, its first instance and its first administrator; prints the credentials once')
            [CompletionResult]::new('migrate-data', 'migrate-data', [CompletionResultType]::ParameterValue, 'Copy a SQLite database (embedded or single-node) into an empty PostgreSQL database, and verify the copy')
            break
        }
        'tok;help;server;start' {
            break
        }
        'tok;help;server;init' {
            break
        }
        'tok;help;server;migrate-data' {
            break
        }
        'tok;help;login' {
            break
        }
        'tok;help;logout' {
            break
        }
        'tok;help;whoami' {
            break
        }
        'tok;help;jwt' {
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Show a token''s header and claims and what they mean; the signature is not checked')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a token''s signature and claims against a key, as a broker would')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Mint a token signed with a secret or private key')
            [CompletionResult]::new('create-secret-key', 'create-secret-key', [CompletionResultType]::ParameterValue, 'Create a random HMAC secret key (HS256/384/512), as a broker''s tokenSecretKey')
            [CompletionResult]::new('create-key-pair', 'create-key-pair', [CompletionResultType]::ParameterValue, 'Create an RSA or EC key pair: PKCS#8 private key and X.509 public key')
            break
        }
        'tok;help;jwt;decode' {
            break
        }
        'tok;help;jwt;verify' {
            break
        }
        'tok;help;jwt;create' {
            break
        }
        'tok;help;jwt;create-secret-key' {
            break
        }
        'tok;help;jwt;create-key-pair' {
            break
        }
        'tok;help;profile' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles; the current one is marked')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile (default: the one this command would use)')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make a profile the current one (`tok profile use local` returns to the embedded mode)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Create a profile or change its settings: server, org, instance, output')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a profile and its stored credential (asks you to type its name)')
            break
        }
        'tok;help;profile;list' {
            break
        }
        'tok;help;profile;show' {
            break
        }
        'tok;help;profile;use' {
            break
        }
        'tok;help;profile;set' {
            break
        }
        'tok;help;profile;delete' {
            break
        }
        'tok;help;completion' {
            break
        }
        'tok;help;generate-docs' {
            break
        }
        'tok;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
