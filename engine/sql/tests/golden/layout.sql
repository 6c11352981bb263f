/* Several statements, comments, odd layout, and no final semicolon. */
SHOW STREAMS;SHOW TABLES ;  -- two on one line
-- a comment with a ; inside
SELECT
    userid,   -- trailing comment
    pageid /* inline; comment */
FROM
    pageviews
WHERE pageid = 'a;b' -- the ; in the string does not split
EMIT CHANGES;

   select * from "pageviews" emit changes
