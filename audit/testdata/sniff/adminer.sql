-- Adminer 4.8.1 MySQL 8.0.36 dump

SET NAMES utf8;
CREATE TABLE `t` (`id` int NOT NULL);
