#!/bin/sh
# The "database": data under /var/lib/mysql (a named volume, so it outlives
# `compose down`), one answer per connection on 3306.
set -e
mkdir -p /var/lib/mysql
[ -f /var/lib/mysql/posts ] ||
	echo "post 1: Hello world! (from database '${MYSQL_DATABASE}')" > /var/lib/mysql/posts
exec nc -ll -p 3306 -e /answer.sh
