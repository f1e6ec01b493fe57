#!/bin/sh
# One "query": count the visit and send the posts.
n=$(cat /var/lib/mysql/visits 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > /var/lib/mysql/visits
echo "db ${MYSQL_DATABASE}: visit $n"
cat /var/lib/mysql/posts
