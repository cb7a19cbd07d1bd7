#!/bin/sh
# 管理用の tsunagi コマンド：サービスと同じ利用者（tsunagi）・同じ環境変数（/etc/tsunagi/tsunagi.env）で
# tsunagi のコマンドを実行します。置き場所：/usr/local/bin/tsunagi（README「サービスとして動かす」）
#   例：sudo tsunagi check / sudo tsunagi org load /etc/tsunagi/tatsuno.toml
set -eu
ENV_FILE=${TSUNAGI_ENV_FILE:-/etc/tsunagi/tsunagi.env}
exec runuser -u tsunagi -- sh -c 'set -a; . "$0"; set +a; cd /var/lib/tsunagi; exec /opt/tsunagi/.venv/bin/tsunagi "$@"' "$ENV_FILE" "$@"
