-- phpMyAdmin SQL Dump
-- version 5.2.1
-- https://www.phpmyadmin.net/
--
-- Host: localhost
-- Generation Time: Jan 01, 2026 at 12:00 PM

SET SQL_MODE = "NO_AUTO_VALUE_ON_ZERO";
CREATE TABLE `rcube_users` (`user_id` int NOT NULL, `username` varchar(128) NOT NULL);
INSERT INTO `rcube_users` (`user_id`, `username`) VALUES
(1, 'alice@example.org');
