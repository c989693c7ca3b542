
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
            cand jwt 'Decode, verify and mint JWTs, and create keys, offline (replaces `pulsar tokens`)'
            cand profile 'Manage profiles: which control plane tok talks to, and as whom'
            cand completion 'Print a shell completion script'
            cand generate-docs 'Write the man pages and completion scripts into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
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
            cand jwt 'Decode, verify and mint JWTs, and create keys, offline (replaces `pulsar tokens`)'
            cand profile 'Manage profiles: which control plane tok talks to, and as whom'
            cand completion 'Print a shell completion script'
            cand generate-docs 'Write the man pages and completion scripts into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
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
