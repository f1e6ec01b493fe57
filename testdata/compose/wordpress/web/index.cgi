#!/bin/sh
# The front page: whatever the database answers on WORDPRESS_DB_HOST.
host=${WORDPRESS_DB_HOST%:*}
port=${WORDPRESS_DB_HOST##*:}
printf 'Content-Type: text/plain\r\n\r\n'
echo "My WordPress-shaped blog"
nc -w 5 "$host" "$port" </dev/null || echo "error: cannot reach the database at $WORDPRESS_DB_HOST"
