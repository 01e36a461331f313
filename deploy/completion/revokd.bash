# bash completion for revokd(8). Installed by `meson install` into
# share/bash-completion/completions/revokd; plain bash (compgen), no
# dependency on the bash-completion package's helpers.

_revokd()
{
    local cur prev cmd i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local commands="serve check revoke unrevoke list version"

    cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            serve|check|revoke|unrevoke|list|version) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done

    case $prev in
        -c|--config|--token-file)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --data-dir)
            COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --log-format)
            COMPREPLY=($(compgen -W "json text" -- "$cur")); return ;;
        --log-level)
            COMPREPLY=($(compgen -W "debug info warn error" -- "$cur")); return ;;
        --type)
            COMPREPLY=($(compgen -W "token session subject issuer key" -- "$cur")); return ;;
        --listen|--admin-listen|--threads|--redis-url|--server|--jti|--sid|--sub|--kid|--iss|--exp|--at|--reason|--id|--limit)
            return ;;
    esac

    local opts
    case $cmd in
        ""|serve)
            opts="--config --dev --listen --admin-listen --data-dir --threads --log-format --log-level --redis-url --help"
            [ -z "$cmd" ] && opts="$opts --version" ;;
        check)    opts="--config --data-dir --help" ;;
        revoke)   opts="--server --jti --sid --sub --kid --issuer --iss --exp --at --reason --token-file --help" ;;
        unrevoke) opts="--server --type --id --iss --token-file --help" ;;
        list)     opts="--server --type --iss --limit --token-file --help" ;;
        version)  opts="" ;;
    esac

    if [ -z "$cmd" ] && [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
}
complete -F _revokd revokd
