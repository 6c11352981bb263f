DEFINE name = 'a; DROP STREAM x';
SELECT * FROM ${name};
