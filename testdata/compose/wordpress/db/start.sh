#!/bin/sh
# The "database": data under /var/lib/mysql (a named volume, so it outlives
# `compose down`), one answer per connection on 3306.
set -e
mkdir -p /var/lib/mysql
[ -f /var/lib/mysql/posts ] ||
	echo "post 1: Hello world! (from database '${MYSQL_DATABASE}')" > /var/lib/mysql/posts
boots=$(cat /var/lib/mysql/boots 2>/dev/null || echo 0)
echo $((boots + 1)) > /var/lib/mysql/boots
echo "db: boot $((boots + 1)), serving ${MYSQL_DATABASE} on 3306"
exec nc -ll -p 3306 -e /answer.sh
