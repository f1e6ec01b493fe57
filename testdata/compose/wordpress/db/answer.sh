#!/bin/sh
# One "query": the posts, and which boot of the data volume serves them.
echo "db ${MYSQL_DATABASE} (boot $(cat /var/lib/mysql/boots)):"
cat /var/lib/mysql/posts
