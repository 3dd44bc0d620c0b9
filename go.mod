module github.com/cgmon/cgmon

go 1.26
