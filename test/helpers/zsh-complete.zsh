# Prints what zsh's completion offers for a command line, one candidate a line.
# usage: zsh -f zsh-complete.zsh FPATH_DIR 'kasmon replay --fo'
# An interactive zsh runs in a pseudo-terminal (zsh/zpty) with the completion function from
# FPATH_DIR; compadd is wrapped to print each candidate between << >>, then Tab is typed.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT='' RPROMPT=''"
zpty -w z "fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd () { if [[ ${@[1,(i)(-(O|A|D))]} == *-(O|A|D)* ]]; then builtin compadd "$@"; return $?; fi; typeset -a __hits; builtin compadd -O __hits "$@"; (( $#__hits )) && print -l -- "<<"${^__hits}">>"; builtin compadd "$@" }'
zpty -w z "zstyle ':completion:*' list-prompt ''; zstyle ':completion:*' select-prompt ''"
zpty -w z "echo READY"
zpty -r z line "*READY*"
zpty -r z line "*READY*"
zpty -n -w z "$2"$'\t'
out=""
while zpty -r -t z line; do out+="$line"; done
sleep 0.5
while zpty -r -t z line; do out+="$line"; done
print -r -- "${out//$'\r'/}" | grep -o '<<[^>]*>>' | sed -E 's/^<<(.*)>>$/\1/' | sort -u
zpty -d z
